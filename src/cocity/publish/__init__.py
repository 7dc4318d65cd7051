"""Publication of evaluation editions: signed editions in the records store
(:mod:`cocity.publish.editions`), the JSON documents of the public site and of the portal's API
(:mod:`cocity.publish.api`) and the static bilingual site (:mod:`cocity.publish.site`)."""
