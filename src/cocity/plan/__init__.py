"""Planning tools on the evaluation and the fund: what-if scenarios (:mod:`cocity.plan.whatif`)."""
