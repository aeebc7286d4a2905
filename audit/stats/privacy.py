"""Privacy attacks on synthetic tables as Anonymeter defines them (Giomi et al., "A Unified
Framework for Quantifying Privacy Risk in Synthetic Data", PoPETs 2023; reference implementation
``anonymeter`` 1.1.0): singling out, linkability and attribute inference, each run against the
training (real) records and, as the control, against holdout records the generator never saw.

Pure functions of arrays and seeded generators; the checks (``privacy`` family) call them.

* :func:`success_rate` — Wilson score estimate of an attack's success rate and its error.
* :func:`residual_risk` — risk = (attack - control) / (1 - control), with the error propagated
  from both rates; :func:`bounded` clips a value and its interval to [0, 1].
* :func:`gower_neighbours` — nearest records under the Gower-style distance Anonymeter uses
  (numeric columns L1 after scaling each by its range over both sets, so a column adds at most 1;
  categorical columns add 1 when they differ; a missing value adds 1).
* :func:`linkability_successes` / :func:`inference_successes` — the two neighbour attacks.
* :func:`singling_out_queries` / :func:`count_matches` — predicates that single out one synthetic
  record (univariate: a rare value or an extreme; multivariate: conjunctions of ``n_cols``
  conditions from a synthetic record's values, ``>=``/``<=`` its value on the side away from the
  median for numbers), and how many records of another set each matches: a query singles out a
  real record when it matches exactly one.

Differences from ``anonymeter``, all documented where they act: samples and queries come from
seeded generators (anonymeter draws unseeded), queries are structured conjunctions evaluated with
numpy (not strings passed to ``DataFrame.query``), ties between neighbours go to the lower index,
a numeric missing value is at distance 1 (anonymeter's is NaN, never a neighbour), numeric
columns are scaled by their range over all three sets (anonymeter: over the two it compares), and
a negative numeric guess is judged by its magnitude. Singling out compares training and control
sets of equal size (the checks take equally many distinct records of each), where anonymeter
corrects a control set of another size with a fitted model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass(frozen=True)
class Rate:
    """A success rate (or a risk) and the half-width of its confidence interval."""

    value: float
    error: float

    def interval(self) -> tuple[float, float, float]:
        """``(value, low, high)`` clipped to [0, 1] (:func:`bounded`)."""
        return bounded(self.value, self.error)


def success_rate(n_total: int, n_success: float, confidence: float = 0.95) -> Rate:
    """Wilson score estimate of a Bernoulli success rate (Wilson 1927), as Anonymeter estimates it.

    Parameters
    ----------
    n_total : int
        Attacks made (> 0).
    n_success : float
        Successful attacks, 0 <= n_success <= n_total (a corrected count may be fractional).
    confidence : float
        Two-sided confidence level of ``error``, in (0, 1).

    Returns
    -------
    Rate
        ``value = (k + z^2/2) / (n + z^2)`` and ``error = z / (n + z^2) * sqrt(k (n - k) / n + z^2/4)``,
        ``z`` the standard normal quantile at ``(1 + confidence) / 2``. Unit: share of attacks.

    Raises
    ------
    ValueError
        ``n_total`` < 1, ``n_success`` outside [0, n_total], or ``confidence`` outside (0, 1).
    """
    if n_total < 1 or not 0 <= n_success <= n_total or not 0 < confidence < 1:
        raise ValueError(f"need n_total >= 1, 0 <= n_success <= n_total and 0 < confidence < 1; got "
                         f"{n_total}, {n_success}, {confidence}")
    z = float(norm.ppf(0.5 * (1.0 + confidence)))
    z2 = z * z
    den = n_total + z2
    value = (n_success + 0.5 * z2) / den
    error = z / den * math.sqrt(n_success * (n_total - n_success) / n_total + 0.25 * z2)
    return Rate(value, error)


def residual_risk(attack: Rate, control: Rate) -> Rate:
    """Anonymeter's privacy risk: the attack's success on training records beyond its success on
    control records, as a share of what the control attack left to gain.

    ``risk = (a - c) / (1 - c)``; its error propagates both rates' errors to first order,
    ``sqrt((e_a / (1 - c))^2 + (e_c (a - 1) / (1 - c)^2)^2)``. Range (-inf, 1]: 0 means the
    synthetic data tell an attacker no more about training records than about anyone's, 1 that
    every attack the control missed succeeds; negative values mean the control was easier.
    Direction: larger is worse. Raises ``ValueError`` when the control rate is 1 (nothing left).
    """
    if control.value >= 1.0:
        raise ValueError("the control attack succeeds every time: no residual risk can be measured")
    gap = 1.0 - control.value
    value = (attack.value - control.value) / gap
    error = math.sqrt((attack.error / gap) ** 2 + (control.error * (attack.value - 1.0) / gap ** 2) ** 2)
    return Rate(value, error)


def bounded(value: float, error: float) -> tuple[float, float, float]:
    """``(value, value - error, value + error)``, each clipped to [0, 1] (Anonymeter's ``bind_value``)."""
    def clip(x):
        return min(max(x, 0.0), 1.0)
    return clip(value), clip(value - error), clip(value + error)


# -- the distance ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Encoded:
    """Records as a Gower-ready pair of arrays: ``num`` (float64, scaled so that two values of a
    column differ by at most 1; NaN = missing) and ``cat`` (int64 codes; -1 = missing)."""

    num: np.ndarray
    cat: np.ndarray

    def take(self, idx) -> "Encoded":
        return Encoded(self.num[idx], self.cat[idx])

    def cols(self, num_idx, cat_idx) -> "Encoded":
        return Encoded(self.num[:, num_idx], self.cat[:, cat_idx])

    def __len__(self) -> int:
        return self.num.shape[0]


def encode(frames: list, numeric: list[str], categorical: list[str]) -> list[Encoded]:
    """Encode pandas frames on shared scales: each numeric column divided by its range (max - min)
    over every frame (a constant column by 1), each categorical column coded over every frame's
    values (``pandas.factorize`` of their union, as strings)."""
    import pandas as pd

    out_num = [np.empty((len(f), len(numeric))) for f in frames]
    for j, c in enumerate(numeric):
        cols = [pd.to_numeric(f[c], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan) for f in frames]
        allv = np.concatenate(cols)
        finite = allv[np.isfinite(allv)]
        span = float(finite.max() - finite.min()) if finite.size else 1.0
        span = span if span > 0 else 1.0
        lo = float(finite.min()) if finite.size else 0.0
        for k, v in enumerate(cols):
            out_num[k][:, j] = (v - lo) / span
    out_cat = [np.empty((len(f), len(categorical)), dtype=np.int64) for f in frames]
    for j, c in enumerate(categorical):
        vals = [f[c].astype(object).where(f[c].notna(), None) for f in frames]
        codes, _ = pd.factorize(pd.concat(vals, ignore_index=True).map(lambda v: None if v is None else str(v)))
        at = 0
        for k, v in enumerate(vals):
            out_cat[k][:, j] = codes[at:at + len(v)]
            at += len(v)
    return [Encoded(n, c) for n, c in zip(out_num, out_cat)]


def gower_distances(q: Encoded, cand: Encoded) -> np.ndarray:
    """Distances, shape ``(len(q), len(cand))``: numeric L1 on scaled values plus one per differing
    category; a missing value (either side) adds 1 for its column. Range [0, number of columns]."""
    d = np.zeros((len(q), len(cand)))
    diff = np.empty_like(d)
    for j in range(q.num.shape[1]):
        a, b = q.num[:, j], cand.num[:, j]
        np.subtract(a[:, None], b[None, :], out=diff)
        np.abs(diff, out=diff)
        if np.isnan(a).any() or np.isnan(b).any():
            diff[np.isnan(diff)] = 1.0
        d += diff
    for j in range(q.cat.shape[1]):
        a, b = q.cat[:, j], cand.cat[:, j]
        ne = a[:, None] != b[None, :]
        if (a < 0).any() or (b < 0).any():
            ne |= (a < 0)[:, None] | (b < 0)[None, :]
        d += ne
    return d


def gower_neighbours(q: Encoded, cand: Encoded, k: int = 1, chunk: int = 512) -> np.ndarray:
    """Indices into ``cand`` of the ``k`` nearest candidates of each query (:func:`gower_distances`),
    nearest first, ties to the lower index; shape ``(len(q), k)``. Brute force in chunks of
    ``chunk`` queries (memory ``chunk x len(cand)`` floats)."""
    k = min(k, len(cand))
    out = np.empty((len(q), k), dtype=np.int64)
    for s in range(0, len(q), chunk):
        d = gower_distances(q.take(slice(s, s + chunk)), cand)
        if k == 1:
            out[s:s + chunk, 0] = np.argmin(d, axis=1)  # the first minimum: ties to the lower index
        else:
            out[s:s + chunk] = np.argsort(d, axis=1, kind="stable")[:, :k]  # stable: ties to the lower index
    return out


# -- the attacks ----------------------------------------------------------------------------------

def linkability_successes(targets: Encoded, syn: Encoded, split: tuple[tuple, tuple], k: int = 1) -> np.ndarray:
    """Linkability attack: for each target record, its ``k`` nearest synthetic records on the first
    auxiliary columns and on the second; it is linked when the two sets share a record.

    ``split`` = ``((num_idx_a, cat_idx_a), (num_idx_b, cat_idx_b))`` column indices of the two
    auxiliary parts. Returns a boolean array, one per target."""
    (na, ca), (nb, cb) = split
    ia = gower_neighbours(targets.cols(na, ca), syn.cols(na, ca), k)
    ib = gower_neighbours(targets.cols(nb, cb), syn.cols(nb, cb), k)
    return np.array([bool(set(a) & set(b)) for a, b in zip(ia.tolist(), ib.tolist())], dtype=bool)


def inference_successes(targets: Encoded, syn: Encoded, aux: tuple, secret_t: np.ndarray, secret_s: np.ndarray,
                        numeric: bool, tolerance: float = 0.05) -> np.ndarray:
    """Attribute-inference attack: each target's secret is guessed as that of its nearest synthetic
    record on the auxiliary columns ``aux`` = ``(num_idx, cat_idx)``.

    A categorical guess succeeds when equal to the secret; a numeric one when
    ``|guess - secret| <= tolerance * |guess|`` (Anonymeter's rule, relative to the guess; for a
    negative guess its magnitude, where Anonymeter's ratio turns negative and always succeeds); both
    missing counts as a success (as in Anonymeter). Returns a boolean array, one per target."""
    na, ca = aux
    idx = gower_neighbours(targets.cols(na, ca), syn.cols(na, ca), 1)[:, 0]
    return guess_successes(secret_s[idx], secret_t, numeric, tolerance)


def guess_successes(guesses: np.ndarray, secrets: np.ndarray, numeric: bool, tolerance: float = 0.05) -> np.ndarray:
    """Which guesses hit their secret (the rule of :func:`inference_successes`)."""
    import pandas as pd

    g_na, s_na = pd.isna(guesses), pd.isna(secrets)
    if numeric:
        g = np.asarray(guesses, dtype=np.float64)
        s = np.asarray(secrets, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            hit = np.abs(g - s) <= tolerance * np.abs(g)
    else:
        hit = np.asarray([a == b for a, b in zip(guesses, secrets)], dtype=bool)
    return (hit & ~g_na & ~s_na) | (g_na & s_na)


# -- singling out ------------------------------------------------------------------------------

#: A condition on one column: ``(kind, column index, op, value)`` with kind ``"num"`` (op ``<=``,
#: ``>=`` or ``==`` on the scaled value), ``"cat"`` (op ``==`` on the code) or ``"na"`` (missing).
Condition = tuple


def _mask(cond: Condition, data: Encoded) -> np.ndarray:
    kind, j, op, v = cond
    if kind == "na":
        col = data.num[:, j] if op == "num" else data.cat[:, j]
        return np.isnan(col) if op == "num" else col < 0
    if kind == "cat":
        return data.cat[:, j] == v
    col = data.num[:, j]
    with np.errstate(invalid="ignore"):
        return col <= v if op == "<=" else col >= v if op == ">=" else col == v


def count_matches(query: tuple, data: Encoded) -> int:
    """Records of ``data`` that satisfy every condition of ``query`` (a tuple of conditions)."""
    m = np.ones(len(data), dtype=bool)
    for cond in query:
        m &= _mask(cond, data)
    return int(m.sum())


def singling_out_queries(syn: Encoded, n_queries: int, n_cols: int, rng: np.random.Generator,
                         max_attempts: int = 100_000) -> list[tuple]:
    """Predicates that each match exactly one record of ``syn`` (deduplicated by the caller), as
    Anonymeter's attacker builds them from the synthetic data.

    ``n_cols == 1`` (univariate): for every column, ``isna`` when exactly one value is missing, the
    minimum (``<=``) and maximum (``>=``) of a numeric column, and ``==`` every value seen once;
    shuffled with ``rng``. ``n_cols > 1`` (multivariate): a random synthetic record and ``n_cols``
    random columns give a conjunction — ``isna`` for a missing value, ``==`` for a category,
    ``>=`` its value when above the column's median else ``<=`` — tried up to ``max_attempts``
    times. Only distinct queries that single out one synthetic record are kept, at most
    ``n_queries``. Returns a list of tuples of conditions (see :data:`Condition`)."""
    n_num, n_cat = syn.num.shape[1], syn.cat.shape[1]
    seen, out = set(), []

    def keep(q):
        if q not in seen and count_matches(q, syn) == 1:
            seen.add(q)
            out.append(q)

    if n_cols <= 1:
        cands: list[tuple] = []
        for j in range(n_num):
            col = syn.num[:, j]
            if int(np.isnan(col).sum()) == 1:
                cands.append((("na", j, "num", None),))
            fin = col[~np.isnan(col)]
            if fin.size:
                cands += [(("num", j, "<=", float(fin.min())),), (("num", j, ">=", float(fin.max())),)]
                vals, cnt = np.unique(fin, return_counts=True)
                cands += [(("num", j, "==", float(v)),) for v in vals[cnt == 1]]
        for j in range(n_cat):
            col = syn.cat[:, j]
            if int((col < 0).sum()) == 1:
                cands.append((("na", j, "cat", None),))
            vals, cnt = np.unique(col[col >= 0], return_counts=True)
            cands += [(("cat", j, "==", int(v)),) for v in vals[cnt == 1]]
        for i in rng.permutation(len(cands)):
            keep(cands[i])
            if len(out) == n_queries:
                break
        return out
    medians = np.nanmedian(syn.num, axis=0) if n_num and len(syn) else np.zeros(n_num)
    cols = [("num", j) for j in range(n_num)] + [("cat", j) for j in range(n_cat)]
    n_cols = min(n_cols, len(cols))
    for _ in range(max_attempts):
        if len(out) == n_queries:
            break
        r = int(rng.integers(len(syn)))
        q = []
        for c in sorted(rng.choice(len(cols), n_cols, replace=False).tolist()):
            kind, j = cols[c]
            if kind == "num":
                v = syn.num[r, j]
                q.append(("na", j, "num", None) if np.isnan(v) else
                         ("num", j, ">=" if v > medians[j] else "<=", float(v)))
            else:
                v = int(syn.cat[r, j])
                q.append(("na", j, "cat", None) if v < 0 else ("cat", j, "==", v))
        keep(tuple(q))
    return out


def neighbourhood_queries(syn: Encoded, n_queries: int, tolerance: float, rng: np.random.Generator) -> list[tuple]:
    """Predicates that isolate a synthetic record by ALL its values: each numeric value within
    ``tolerance`` (on the encoded scale, a share of the column's range), each category equal, each
    missing value missing; built from up to ``n_queries`` seeded synthetic records and kept when
    they match that one synthetic record only (deduplicated ``syn``). An attacker holding a noisy
    copy of a record isolates its original this way, where the exact predicates of
    :func:`singling_out_queries` miss it (this project's extension of Anonymeter's attacker)."""
    n = len(syn)
    out = []
    for r in np.sort(rng.choice(n, min(n_queries, n), replace=False)):
        q = []
        for j, v in enumerate(syn.num[r].tolist()):
            if np.isnan(v):
                q.append(("na", j, "num", None))
            else:
                q += [("num", j, ">=", v - tolerance), ("num", j, "<=", v + tolerance)]
        for j, v in enumerate(syn.cat[r].tolist()):
            q.append(("na", j, "cat", None) if v < 0 else ("cat", j, "==", int(v)))
        q = tuple(q)
        if count_matches(q, syn) == 1:
            out.append(q)
    return out


def singling_out_successes(queries: list[tuple], data: Encoded) -> int:
    """How many queries single out exactly one record of ``data``."""
    return sum(count_matches(q, data) == 1 for q in queries)


def query_matches(query: tuple, data: Encoded) -> np.ndarray:
    """Positions (int64, ascending) of the records of ``data`` that satisfy every condition of ``query``."""
    m = np.ones(len(data), dtype=bool)
    for cond in query:
        m &= _mask(cond, data)
    return np.flatnonzero(m)


def singling_out_permutation(queries: list[tuple], train: Encoded, control: Encoded, n_permutations: int,
                             rng: np.random.Generator, max_matches: int = 64, chunk: int = 50
                             ) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Singling-out successes on ``train`` and ``control`` (equal sizes ``n``) and their null under
    relabelling: the pooled ``2n`` records split at random into two halves of ``n``, ``n_permutations``
    times (exact when the synthetic data do not depend on which records were training).

    A query matching more than ``max_matches`` pooled records is left out of the permutations (it
    singles out a half's record with probability below ``max_matches * 2**(1 - max_matches)``).

    Returns
    -------
    (training successes, control successes, null training successes, null control successes);
    the nulls are int64 arrays of shape ``(n_permutations,)``.
    """
    from scipy import sparse

    n = len(train)
    if len(control) != n:
        raise ValueError("training and control sets must have the same size")
    pooled = Encoded(np.vstack([train.num, control.num]), np.vstack([train.cat, control.cat]))
    hits_t = hits_c = 0
    rows, cols, ks = [], [], []
    for q in queries:
        idx = query_matches(q, pooled)
        kt = int((idx < n).sum())
        hits_t += kt == 1
        hits_c += (idx.size - kt) == 1
        if idx.size <= max_matches:
            cols.append(np.full(idx.size, len(ks), dtype=np.int64))
            rows.append(idx)
            ks.append(idx.size)
    k = np.asarray(ks, dtype=np.int64)
    m = sparse.csr_matrix((np.ones(sum(r.size for r in rows)), (np.concatenate(rows) if rows else [],
                                                                 np.concatenate(cols) if cols else [])),
                          shape=(2 * n, len(ks)))
    null_t, null_c = np.empty(n_permutations, dtype=np.int64), np.empty(n_permutations, dtype=np.int64)
    base = np.concatenate([np.ones(n), np.zeros(n)])
    for s in range(0, n_permutations, chunk):
        r = min(chunk, n_permutations - s)
        labels = rng.permuted(np.tile(base, (r, 1)), axis=1)
        counts = np.rint(np.asarray((m.T @ labels.T).T)).astype(np.int64)  # training matches per query
        null_t[s:s + r] = (counts == 1).sum(axis=1)
        null_c[s:s + r] = ((k[None, :] - counts) == 1).sum(axis=1)
    return hits_t, hits_c, null_t, null_c


# -- the three risks, attack vs control -----------------------------------------------------------

@dataclass(frozen=True)
class Risk:
    """One Anonymeter risk: the attack's success rate on training records, on control records, and
    the residual risk (:func:`residual_risk`), each with its error; ``n_attacks`` per side."""

    attack: Rate
    control: Rate
    risk: Rate
    n_attacks: int


def _risk(n_attacks: int, hits_train: float, hits_control: float, confidence: float) -> Risk:
    a = success_rate(n_attacks, hits_train, confidence)
    c = success_rate(n_attacks, hits_control, confidence)
    return Risk(a, c, residual_risk(a, c), n_attacks)


def _targets(data: Encoded, n: int, rng: np.random.Generator) -> Encoded:
    return data if len(data) <= n else data.take(np.sort(rng.choice(len(data), n, replace=False)))


def singling_out_risk(train: Encoded, control: Encoded, syn: Encoded, n_attacks: int, n_cols: int,
                      rng: np.random.Generator, confidence: float = 0.95) -> Risk:
    """Singling-out risk: :func:`singling_out_queries` built on ``syn``; a query succeeds on a set
    when it matches exactly one of its records. Rates are out of ``n_attacks`` (queries the attacker
    failed to build count as failures, as in Anonymeter). Pass deduplicated sets of the same size
    for train and control (Anonymeter corrects a control of another size by a fitted model; equal
    sizes need none)."""
    queries = singling_out_queries(syn, n_attacks, n_cols, rng)
    return _risk(n_attacks, singling_out_successes(queries, train), singling_out_successes(queries, control),
                 confidence)


def linkability_risk(train: Encoded, control: Encoded, syn: Encoded, split: tuple, n_attacks: int,
                     rng: np.random.Generator, k: int = 1, confidence: float = 0.95) -> Risk:
    """Linkability risk (:func:`linkability_successes`) on ``n_attacks`` seeded targets of each set."""
    t, c = _targets(train, n_attacks, rng), _targets(control, n_attacks, rng)
    n = min(len(t), len(c))
    return _risk(n, float(linkability_successes(t, syn, split, k)[:n].sum()),
                 float(linkability_successes(c, syn, split, k)[:n].sum()), confidence)


def inference_risk(train: tuple, control: tuple, syn: tuple, aux: tuple, numeric: bool, n_attacks: int,
                   rng: np.random.Generator, tolerance: float = 0.05, confidence: float = 0.95) -> Risk:
    """Attribute-inference risk (:func:`inference_successes`); ``train``, ``control`` and ``syn`` are
    ``(Encoded, secret values)`` pairs, the secret column left out of the encoding."""
    def side(pair):
        data, secret = pair
        idx = (np.arange(len(data)) if len(data) <= n_attacks
               else np.sort(rng.choice(len(data), n_attacks, replace=False)))
        return data.take(idx), np.asarray(secret, dtype=object if not numeric else np.float64)[idx]
    (tt, st), (tc, sc) = side(train), side(control)
    n = min(len(tt), len(tc))
    s_syn = np.asarray(syn[1], dtype=object if not numeric else np.float64)
    hits_t = inference_successes(tt, syn[0], aux, st, s_syn, numeric, tolerance)[:n]
    hits_c = inference_successes(tc, syn[0], aux, sc, s_syn, numeric, tolerance)[:n]
    return _risk(n, float(hits_t.sum()), float(hits_c.sum()), confidence)
