"""The bottom floor: what every other floor uses and which imports nothing of naebu's own.

Located problems (:mod:`.problems`), the canonical datasets and their columns (:mod:`.datasets`,
:mod:`.dataset_model`, :mod:`.dtypes`), values made safe for JSON (:mod:`.jsonsafe`) and for an
official's eyes (:mod:`.formatting`, :mod:`.masking`), TOML line numbers (:mod:`.tomllines`),
the working-day calendar (:mod:`.workdays`), the kinds of government (:mod:`.government`),
schedules (:mod:`.schedule`) and links into the inbox (:mod:`.links`).
"""
