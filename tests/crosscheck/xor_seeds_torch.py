# Independent check of the seed-to-seed spread of the XOR lab (see README.md).
# usage: /usr/bin/python3 xor_seeds_torch.py HIDDEN NSEEDS
import numpy as np, torch, sys
from sklearn.model_selection import train_test_split
torch.set_num_threads(1)
H = int(sys.argv[1]); nseeds = int(sys.argv[2])
accs = []
for seed in range(nseeds):
    rs = np.random.RandomState(seed); torch.manual_seed(seed)
    X = np.tile(np.array([[0,0],[0,1],[1,0],[1,1]], np.float32), (200,1))
    y = np.tile(np.array([0,1,1,0]), 200)
    X = (X + 0.3*rs.randn(*X.shape)).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=.2, random_state=seed)
    Xtr, Xva, ytr, yva = train_test_split(Xtr, ytr, test_size=20, random_state=seed)
    def glorot(i,o):
        l = np.sqrt(6/(i+o)); return torch.tensor(rs.uniform(-l,l,(i,o)).astype(np.float32), requires_grad=True)
    P = [glorot(2,H), torch.zeros(H, requires_grad=True), glorot(H,2), torch.zeros(2, requires_grad=True)]
    m = [torch.zeros_like(p) for p in P]; v = [torch.zeros_like(p) for p in P]
    xt = torch.tensor(Xtr); yt = torch.tensor(ytr)
    t = 0
    for ep in range(200):
        perm = torch.tensor(rs.permutation(len(xt)))
        for s in range(0, len(xt), 32):
            idx = perm[s:s+32]
            z = torch.relu(xt[idx] @ P[0] + P[1]) @ P[2] + P[3]
            loss = torch.nn.functional.cross_entropy(z, yt[idx])
            for p in P: p.grad = None
            loss.backward(); t += 1
            a = 0.001*np.sqrt(1-0.999**t)/(1-0.9**t)
            with torch.no_grad():
                for p, mm, vv in zip(P, m, v):
                    mm += (p.grad-mm)*0.1; vv += (p.grad*p.grad-vv)*0.001
                    p -= a*mm/(vv.sqrt()+1e-7)
    with torch.no_grad():
        z = torch.relu(torch.tensor(Xte) @ P[0] + P[1]) @ P[2] + P[3]
        accs.append(float((z.argmax(1).numpy() == yte).mean()))
a = np.array(accs)
print(f"H={H} seeds={nseeds} mean={a.mean():.4f} median={np.median(a):.4f} min={a.min():.4f} below0.8={(a<0.8).sum()}")
