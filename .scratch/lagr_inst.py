import numpy as np
def inst(n, m, seed):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 20000, (max(3, n // 60), 2))
    k = rng.integers(0, len(centres), n)
    d = centres[k] + rng.normal(0, 1200, (n, 2))
    c = rng.uniform(0, 20000, (m, 2))
    minutes = np.linalg.norm(d[:, None] - c[None], axis=2) / 250.0
    w = rng.lognormal(5, 1, n).round()
    return w, minutes
