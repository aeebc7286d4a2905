"""The ``privacy`` family: what the synthetic data give away about the real records they came from.

* :mod:`.attacks` — singling out, linkability and attribute inference (Anonymeter's method, Giomi
  et al., PoPETs 2023), each against training records with holdout records as the control;
* :mod:`.membership` — membership inference from the distance to the closest synthetic record
  (ROC AUC, TPR at 1% and 0.1% FPR; Carlini et al., S&P 2022);
* :mod:`.pii` — personal data replayed from real records (tables and corpora) and rare
  quasi-identifier combinations reproduced.

The pure statistics live in :mod:`synthproof.stats.privacy`, :mod:`synthproof.stats.membership`
and :mod:`synthproof.stats.pii`; docs/privacy.md says what each number means for a reviewer.
"""
