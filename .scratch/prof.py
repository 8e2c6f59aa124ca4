import time, sys
import numpy as np
sys.path.insert(0, '.scratch')
from lagr_inst import inst
from pointplan.locate import solve_pmedian
import pointplan.locate.median as M
orig = M._pm_lagrangian
cnt = {}
def wrap(*a, **k):
    t=time.time(); r=orig(*a, **k); cnt['lag']=time.time()-t; return r
M._pm_lagrangian = wrap
for n,m,p in [(2000,200,20),(2000,200,50)]:
    w, C = inst(n, m, 0)
    t=time.time(); r = solve_pmedian(w, C, p); print(n,m,p, time.time()-t, cnt, r.gap_pct, r.details.get('swaps'))
