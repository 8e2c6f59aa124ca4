import time, sys
import numpy as np
sys.path.insert(0, '.scratch')
from lagr_inst import inst
import pointplan.locate.median as M
from pointplan.locate import solve_pmedian
st={'rb':0,'ev':0,'sz':[]}
orb=M._DualPairs.rebuild
def rb(self, lam):
    st['rb']+=1; orb(self, lam); st['sz'].append(self.rows.size)
M._DualPairs.rebuild=rb
oev=M._DualPairs.evaluate
def ev(self,*a):
    st['ev']+=1; return oev(self,*a)
M._DualPairs.evaluate=ev
w, C = inst(2000, 200, 0)
t=time.time(); r = solve_pmedian(w, C, 50); print(time.time()-t, st['rb'], st['ev'], st['sz'][:5], st['sz'][-3:], r.gap_pct)
