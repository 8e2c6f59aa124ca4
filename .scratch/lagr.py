import sys, time
import numpy as np, scipy.sparse as sp
from scipy.optimize import linprog, milp, LinearConstraint, Bounds
from pointplan.locate import solve_pmedian
def inst(n, m, seed):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 20000, (max(3, n // 60), 2))
    k = rng.integers(0, len(centres), n)
    d = centres[k] + rng.normal(0, 1200, (n, 2))
    c = rng.uniform(0, 20000, (m, 2))
    minutes = np.linalg.norm(d[:, None] - c[None], axis=2) / 250.0
    w = rng.lognormal(5, 1, n).round()
    return w, minutes
def lp(w, C, p):
    n, m = C.shape
    nx = n*m
    # vars y(m), x(n*m)
    r = np.repeat(np.arange(n), m); cidx = np.tile(np.arange(m), n); ar=np.arange(nx)
    A1 = sp.csr_array((np.ones(nx), (r, m+ar)), shape=(n, m+nx))
    A2 = sp.csr_array((np.r_[np.ones(nx), -np.ones(nx)], (np.r_[ar, ar], np.r_[m+ar, cidx])), shape=(nx, m+nx))
    A3 = sp.csr_array((np.ones(m), (np.zeros(m, int), np.arange(m))), shape=(1, m+nx))
    c = np.r_[np.zeros(m), (w[:, None]*C).ravel()]
    res = milp(c, constraints=[LinearConstraint(A1,1,1), LinearConstraint(A2,-np.inf,0), LinearConstraint(A3,-np.inf,p)], bounds=Bounds(0,1))
    return res.fun
for n, m, p in [(300,40,5),(300,40,10),(800,80,15),(2000,200,20),(2000,200,50)]:
    for seed in range(1):
        w, C = inst(n, m, seed)
        t=time.time(); r = solve_pmedian(w, C, p); th=time.time()-t
        t=time.time(); L = lp(w, C, p); tl=time.time()-t
        print(n,m,p,seed, f"obj {r.objective:.0f} bound {r.bound:.0f} LP {L:.0f} bound/LP-1 {100*(r.bound/L-1):.3f}% gap {r.gap_pct:.3f}% heur {th:.2f}s lp {tl:.1f}s", flush=True)
