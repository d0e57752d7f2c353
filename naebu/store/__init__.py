"""The store floor: the tables (:mod:`.tables`), the record history (:mod:`.history`) and the
frozen schema migrations (:mod:`.migrations`). It stands on :mod:`naebu.core` alone."""
