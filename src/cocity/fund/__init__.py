"""The livelihood fund (成渝地区双城经济圈民生协同基金): a double-entry ledger on the records
store (:mod:`cocity.fund.ledger`) and the allocation of its money by rules kept as data, following
the evaluation's grades and the units' needs (:mod:`cocity.fund.allocation`)."""
