"""Side constraints shared by every solver: units that require a point, budgets per kind."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import LinearConstraint

from pointplan._errors import InfeasibleError, InputError
from pointplan.locate.result import BoolArray, IntArray


class _Rules:
    """Unit requirement and per-kind budgets, shared by every solver."""

    def __init__(
        self,
        m: int,
        p: int | None,
        unit_of_candidate: npt.ArrayLike | None,
        require_units: Collection[Any] | None,
        kind_of_candidate: npt.ArrayLike | None,
        budget_per_kind: Mapping[str, int] | None,
    ) -> None:
        self.m = m
        self.req_of = np.full(m, -1, dtype=np.int64)
        self.req_names: list[Any] = []
        self.kind_of = np.zeros(m, dtype=np.int64)
        self.cap = np.array([np.inf])
        self.kind_names: list[Any] = ["*"]
        if require_units:
            if unit_of_candidate is None:
                msg = "require_units needs unit_of_candidate (the unit code of each candidate)."
                raise InputError(msg)
            units = np.asarray(unit_of_candidate, dtype=object).ravel()
            if units.size != m:
                msg = f"unit_of_candidate must have one entry per candidate ({m}), got {units.size}."
                raise InputError(msg)
            req = sorted({str(u) for u in require_units})
            units_s = np.array([str(u) for u in units], dtype=object)
            lookup = {u: r for r, u in enumerate(req)}
            self.req_of = np.array([lookup.get(u, -1) for u in units_s], dtype=np.int64)
            self.req_names = req
            have = np.bincount(self.req_of[self.req_of >= 0], minlength=len(req))
            missing = [u for u, h in zip(req, have, strict=True) if h == 0]
            if missing:
                msg = (
                    f"{len(missing)} required unit(s) have no candidate site: {missing[:10]}. "
                    "Add candidates there (e.g. pointplan.candidates.unit_candidates) or drop "
                    "the requirement."
                )
                raise InfeasibleError(msg)
            if p is not None and len(req) > p:
                msg = (
                    f"{len(req)} units require a new point but only p = {p} points may be "
                    f"added. Raise p to at least {len(req)}."
                )
                raise InfeasibleError(msg)
        if budget_per_kind:
            if kind_of_candidate is None:
                msg = "budget_per_kind needs kind_of_candidate (the kind of each candidate)."
                raise InputError(msg)
            kinds = np.asarray(kind_of_candidate, dtype=object).ravel()
            if kinds.size != m:
                msg = f"kind_of_candidate must have one entry per candidate ({m}), got {kinds.size}."
                raise InputError(msg)
            codes, names = pd.factorize(pd.Series(kinds).astype(str))
            self.kind_of = codes.astype(np.int64)
            self.kind_names = list(names)
            cap = np.full(len(names), np.inf)
            for kind, budget in budget_per_kind.items():
                if budget is None:
                    continue
                if budget < 0:
                    msg = f"budget_per_kind[{kind!r}] must be >= 0, got {budget}."
                    raise InputError(msg)
                if str(kind) in self.kind_names:
                    cap[self.kind_names.index(str(kind))] = float(budget)
            self.cap = cap
            if self.req_names:
                usable = self.cap[self.kind_of] > 0
                have = np.bincount(self.req_of[(self.req_of >= 0) & usable], minlength=len(self.req_names))
                missing = [u for u, h in zip(self.req_names, have, strict=True) if h == 0]
                if missing:
                    msg = (
                        f"required unit(s) {missing[:10]} only have candidates of kinds whose "
                        "budget is 0. Raise the budget or add other candidates there."
                    )
                    raise InfeasibleError(msg)

    @property
    def active(self) -> bool:
        return bool(self.req_names) or bool(np.isfinite(self.cap).any())

    @property
    def n_req(self) -> int:
        return len(self.req_names)

    # greedy support ------------------------------------------------------------------
    def start(self) -> tuple[IntArray, IntArray]:
        return np.zeros(self.n_req, dtype=np.int64), np.zeros(len(self.cap), dtype=np.int64)

    def kind_ok(self, state: tuple[IntArray, IntArray]) -> BoolArray:
        return state[1][self.kind_of] < self.cap[self.kind_of]

    def unmet(self, state: tuple[IntArray, IntArray]) -> tuple[int, BoolArray]:
        unit_cnt = state[0]
        n_unmet = int((unit_cnt == 0).sum())
        if n_unmet == 0:
            return 0, np.zeros(self.m, dtype=bool)
        mask = (self.req_of >= 0) & (unit_cnt[np.maximum(self.req_of, 0)] == 0)
        return n_unmet, mask

    def add(self, state: tuple[IntArray, IntArray], j: int) -> None:
        if self.req_of[j] >= 0:
            state[0][self.req_of[j]] += 1
        state[1][self.kind_of[j]] += 1

    # swap support --------------------------------------------------------------------
    def swap_ok(self, sel: IntArray) -> BoolArray | None:
        """``ok[j, r]``: may candidate ``j`` replace ``sel[r]`` without breaking a rule."""
        if not self.active:
            return None
        kind_cnt = np.bincount(self.kind_of[sel], minlength=len(self.cap))
        kj = self.kind_of
        room = kind_cnt[kj] < self.cap[kj]
        ok = room[:, None] | (kj[:, None] == kj[sel][None, :])
        if self.n_req:
            rs = self.req_of[sel]
            unit_cnt = np.bincount(rs[rs >= 0], minlength=self.n_req)
            critical = (rs >= 0) & (unit_cnt[np.maximum(rs, 0)] == 1)
            same = self.req_of[:, None] == rs[None, :]
            ok &= ~critical[None, :] | same
        return ok

    # MILP rows -----------------------------------------------------------------------
    def milp_rows(self, n_cols: int) -> list[LinearConstraint]:
        rows: list[LinearConstraint] = []
        if self.n_req:
            js = np.flatnonzero(self.req_of >= 0)
            a = sp.csr_array((np.ones(js.size), (self.req_of[js], js)), shape=(self.n_req, n_cols))
            rows.append(LinearConstraint(a, np.ones(self.n_req), np.full(self.n_req, np.inf)))
        finite = np.flatnonzero(np.isfinite(self.cap))
        if finite.size:
            js = np.flatnonzero(np.isin(self.kind_of, finite))
            remap = {k: r for r, k in enumerate(finite)}
            rr = np.array([remap[k] for k in self.kind_of[js]], dtype=np.int64)
            a = sp.csr_array((np.ones(js.size), (rr, js)), shape=(finite.size, n_cols))
            rows.append(LinearConstraint(a, np.full(finite.size, -np.inf), self.cap[finite]))
        return rows
