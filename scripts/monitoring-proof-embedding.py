#!/usr/bin/python3
"""Third round of the monitoring proof (docs/monitoring.md, "Third round: the learned representation").

Measures, on PneumoniaMNIST and the demo model's 64-d embedding (models/pneumonia-demo/model.onnx):

1. embeddings of train / val / test and of val under the acquisition shifts of scripts/monitoring-proof.mjs
   (gamma, contrast, noise, blur, resolution, JPEG; three severities each);
2. an online MMD detector (Cobb et al., AISTATS 2022; the algorithm of alibi-detect's MMDDriftOnline,
   re-implemented here in numpy) on the embedding projected onto k = 8 or 16 principal components, or all
   64 dimensions standardised; window W in {10, 20, 50}; Gaussian kernel, median-heuristic bandwidth.
   Thresholds per time step set so the in-control expected run time (ERT) is the per-detector share of the
   family target (18,000 cases x 17 detectors). Realised false alarms on in-distribution streams
   (bootstrap of the reference, and cross-fitted: designed on a random half of val, streams from the other
   half) and detection delays (1,000 val cases, then the shifted set, cap 100 days);
3. how far the real source shift (val -> test) is from detectable at all: a cross-validated classifier's
   log-likelihood ratio gives an estimate of the per-image KL divergence KL(test || val), and Lorden's bound
   ln(gamma) / KL on the expected delay of any detector at in-control ARL gamma.

Run: /usr/bin/python3 scripts/monitoring-proof-embedding.py [--out docs/monitoring-proof-embedding.json]
(numpy, scipy, scikit-learn, torch, onnx; the resolution and JPEG shifts call Node + sharp, as the first
proof does: run `. scripts/ensure-node.sh` and `npm ci` first, or pass --no-sharp to skip those two).
Every random draw is seeded; a rerun gives the same JSON.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument('--data', default='/work/shared/data/medmnist/pneumoniamnist.npz')
ap.add_argument('--model', default=os.path.join(ROOT, 'models/pneumonia-demo/model.onnx'))
ap.add_argument('--out', default=os.path.join(ROOT, 'docs/monitoring-proof-embedding.json'))
ap.add_argument('--seeds', type=int, default=200, help='detection-delay streams per shifted set')
ap.add_argument('--fa-streams', type=int, default=200, help='in-distribution streams of 90 days per setting')
ap.add_argument('--crossfit-splits', type=int, default=50, help='random halves of val (fa-streams spread over them)')
ap.add_argument('--bootstraps', type=int, default=50_000, help='bootstrap windows per threshold configuration')
ap.add_argument('--windows', default='10,20,50')
ap.add_argument('--reps', default='pca8,pca16,std64')
ap.add_argument('--fa-reps', default='', help='representations for the cross-fitted false alarms (default: all)')
ap.add_argument('--no-sharp', action='store_true')
ap.add_argument('--threads', type=int, default=1)
ap.add_argument('--parts', default='fa,check,delays,info', help='fa, check, delays, info (run parts in parallel)')
ap.add_argument('--merge', nargs='+', help='merge the JSON of separate runs into --out, then exit')
ap.add_argument('--tables', help='print the markdown tables of docs/monitoring.md from this JSON, then exit')
args = ap.parse_args()


def tables(path):
    """The markdown tables of docs/monitoring.md's third round."""
    d = json.load(open(path))
    cap = lambda v: '> cap' if v is None else f'{v:g} ({v / 200:.2g} d)'
    order = ['pca8', 'pca16', 'std64']
    cols = sorted({(r['rep'], r['W']) for r in d['delays']}, key=lambda c: (order.index(c[0]), c[1]))
    head = lambda first: print(f'| {first} | ' + ' | '.join(f'k = {r[3:]}, W = {w}' if r != 'std64' else f'64 std., W = {w}'
                                                             for r, w in cols) + ' |\n|---|' + '---|' * len(cols))
    print('| W | ERT | permutations | quantile | threshold (last step) | alarms in 50 × 20,000 cases | realised mean run length |')
    print('|---|---|---|---|---|---|---|')
    for r in d.get('thresholdCheck', []):
        print(f"| {r['W']} | {r['ert']:,} | {r['bootstraps']:,} | {r['method']} | {r['threshold']:.4f} | {r['alarms']} | "
              f"{r['realisedMeanRunLength']:,.0f} |")
    print()
    head('in-distribution streams (90 days each)')
    fa = {(r['rep'], r['W']): r for r in d['falseAlarms']}
    for key, label in (('bootstrapOfVal', 'bootstrap of val, designed on val'),
                       ('crossFitted', 'cross-fitted: designed on half of val, streams from the other half')):
        print(f'| {label} | ' + ' | '.join(
            f"{fa[c][key]['alarms']} in {fa[c][key]['streams']} (**{fa[c][key]['per90Days']:g}**)" for c in cols) + ' |')
    print()
    eff = d.get('effects', {})
    print('| stream | whole-set MMD² vs val, k = 8 (largest mean shift, SD) | ' + ' | '.join(
        f'k = {r[3:]}, W = {w}' if r != 'std64' else f'64 std., W = {w}' for r, w in cols) + ' |\n|---|---|' + '---|' * len(cols))
    by = {(r['rep'], r['W'], r['source']): r for r in d['delays']}
    for src in dict.fromkeys(r['source'] for r in d['delays']):
        cells = [f"{cap(x['medianDelayImages'])}; {x['withinOneDay'] * 100:.0f} %; {x['detected'] / x['seeds'] * 100:.0f} %"
                 for x in (by[c + (src,)] for c in cols)]
        e = eff.get(src)
        e = f"{e['mmd2VsVal']:.4f} ({e['maxMeanShiftSd']:.2f})" if e else ('control' if src == 'val' else '–')
        print(f'| {src} | {e} | ' + ' | '.join(cells) + ' |')
    print()
    info = d['information']
    print('| representation | C (inverse L2) | AUC val vs test (held out) | KL plug-in (nats/image) | KL Donsker–Varadhan |')
    print('|---|---|---|---|---|')
    for r in info['classifiers']:
        print(f"| {r['representation']} | {r['C']:g} | {r['auc']:.3f} | {r['klPlugIn']:.3f} | {r['klDonskerVaradhan']:.3f} |")
    print()
    print('| in-control ARL γ | ln γ | Lorden: ln γ / KL (images) | days at 200/day | with KL at its 90 % interval (images) |')
    print('|---|---|---|---|---|')
    for k, r in info['lorden'].items():
        print(f"| {r['gamma']:,} ({k}) | {r['lnGamma']:.2f} | {r['images']:.0f} | {r['days']:.2f} | "
              f"{r['imagesAtKl95Upper']:.0f}–{r['imagesAtKl95Lower']:.0f} |")
    print()
    print('| representation (C) | γ | h | median delay (images, days) | IQR | ≤ 1 day |')
    print('|---|---|---|---|---|---|')
    for r in d['oracleCusum']:
        print(f"| {r['representation']} ({r['C']:g}) | {r['gamma']:,} | {r['h']:.2f} | {cap(r['medianDelayImages'])} | "
              f"{r['q25']:g}–{r['q75']:g} | {r['withinOneDay'] * 100:.0f} % |")


if args.tables:
    tables(args.tables)
    sys.exit(0)
if args.merge:
    merged = {}
    for path in args.merge:
        with open(path) as fh:
            part = json.load(fh)
        for key, value in part.items():
            if isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] += value
            elif key == 'runSeconds':
                merged.setdefault('runSecondsByPart', []).append(value)
            elif key == 'settings' and key in merged:
                merged[key]['reps'] = sorted(set(merged[key]['reps']) | set(value['reps']))
            else:
                merged.setdefault(key, value)
    with open(args.out, 'w') as fh:
        json.dump(merged, fh, indent=1)
    sys.exit(0)
parts = set(args.parts.split(','))
torch.set_num_threads(args.threads)
T0 = time.time()


def log(*a):
    print(f'[{time.time() - T0:7.1f}s]', *a, file=sys.stderr, flush=True)


DAYS, PER_DAY = 90, 200
WARMUP, CAP = 1000, 100 * PER_DAY
FAMILY_TARGET = DAYS * PER_DAY  # 18,000 cases between false alarms for the deployment
FAMILY_SIZE = 17  # the 16 label-free detectors + this one (Bonferroni on alarm rates, as the others)
ERT = FAMILY_TARGET * FAMILY_SIZE  # 306,000 cases per detector

# ---------------------------------------------------------------- 1. embeddings
model = onnx.load(args.model)
Wt = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
ops = [n.op_type for n in model.graph.node]


def embed(u8):
    """The demo graph in torch from its initializers (Conv 3x3 pad 1, Relu, MaxPool 2, ReduceMean = the
    embedding, Gemm = the logit), on Vigil's normalisation (u8 / 255 - 0.5) / 0.25."""
    out = []
    for s in range(0, len(u8), 512):
        x = torch.from_numpy(((u8[s:s + 512].astype(np.float64) / 255 - 0.5) / 0.25).astype(np.float32))[:, None]
        with torch.no_grad():
            for n in model.graph.node:
                if n.op_type == 'Conv':
                    x = F.conv2d(x, Wt[n.input[1]], Wt[n.input[2]] if len(n.input) > 2 else None, padding=1)
                elif n.op_type == 'Relu':
                    x = F.relu(x)
                elif n.op_type == 'MaxPool':
                    x = F.max_pool2d(x, 2)
                elif n.op_type == 'ReduceMean':
                    x = x.mean(dim=(2, 3))
                    e = x
        out.append(e.numpy().astype(np.float64))
    return np.vstack(out)


data = np.load(args.data)
imgs = {s: data[f'{s}_images'] for s in ('train', 'val', 'test')}
labels = {s: data[f'{s}_labels'].ravel() for s in ('train', 'val', 'test')}
H, Wd = imgs['val'].shape[1:]


def round_half_up(v):
    """The proof's clamp8: Math.round (half up), clamped to 0..255."""
    return np.clip(np.floor(v + 0.5), 0, 255).astype(np.uint8)


def gauss_blur(px, sigma):
    r = max(1, math.ceil(3 * sigma))
    k = np.exp(-((np.arange(-r, r + 1)) ** 2) / (2 * sigma * sigma))
    k /= k.sum()
    # reflect padding without repeating the edge (scipy.ndimage 'reflect', the JS `at`)
    p = np.pad(px.astype(np.float64), ((0, 0), (0, 0), (r, r)), mode='symmetric')
    tmp = sum(k[i] * p[:, :, i:i + Wd] for i in range(2 * r + 1))
    p = np.pad(tmp, ((0, 0), (r, r), (0, 0)), mode='symmetric')
    return round_half_up(sum(k[i] * p[:, i:i + H, :] for i in range(2 * r + 1)))


SHIFTS = {
    'gamma': ([1.1, 1.25, 1.5], lambda px, g, rng: round_half_up(255 * (px / 255.0) ** g)),
    'contrast': ([0.85, 0.7, 0.5], lambda px, c, rng: round_half_up(
        (px - px.reshape(len(px), -1).mean(1)[:, None, None]) * c + px.reshape(len(px), -1).mean(1)[:, None, None])),
    'noise': ([0.005, 0.01, 0.02], lambda px, s, rng: round_half_up(px + 255 * s * rng.standard_normal(px.shape))),
    'blur': ([0.3, 0.5, 0.75], lambda px, s, rng: gauss_blur(px, s)),
}
SHARP_SHIFTS = {'resolution': [0.85, 0.7, 0.5], 'jpeg': [75, 50, 25]}

SHARP_JS = r"""
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const sharp = createRequire(process.cwd() + '/package.json')('sharp');
const [inp, outp, n, h, w] = process.argv.slice(1, 6); const N = +n, H = +h, W = +w;
const src = readFileSync(inp); const specs = [['resolution', 0.85], ['resolution', 0.7], ['resolution', 0.5], ['jpeg', 75], ['jpeg', 50], ['jpeg', 25]];
const raw = (px, ww = W, hh = H) => sharp(Buffer.from(px), { raw: { width: ww, height: hh, channels: 1 } });
async function gray(image) { const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 1) return new Uint8Array(data); const o = new Uint8Array(info.width * info.height);
  for (let i = 0; i < o.length; i++) o[i] = data[i * info.channels]; return o; }
const out = Buffer.alloc(specs.length * N * H * W);
for (let s = 0; s < specs.length; s++) { const [kind, v] = specs[s];
  for (let i = 0; i < N; i++) { const px = src.subarray(i * H * W, (i + 1) * H * W); let r;
    if (kind === 'resolution') { const ww = Math.max(2, Math.round(W * v)), hh = Math.max(2, Math.round(H * v));
      const small = await gray(raw(px).resize(ww, hh, { kernel: 'cubic' })); r = await gray(raw(small, ww, hh).resize(W, H, { kernel: 'linear' })); }
    else r = await gray(sharp(await raw(px).jpeg({ quality: v }).toBuffer()));
    out.set(r, (s * N + i) * H * W); } }
writeFileSync(outp, out);
"""


def sharp_shifts(val):
    with tempfile.TemporaryDirectory() as d:
        inp, outp = os.path.join(d, 'in.u8'), os.path.join(d, 'out.u8')
        val.astype(np.uint8).tofile(inp)
        subprocess.run(['node', '--input-type=module', '-e', SHARP_JS, inp, outp, str(len(val)), str(H), str(Wd)],
                       cwd=ROOT, check=True)
        o = np.fromfile(outp, dtype=np.uint8).reshape(6, len(val), H, Wd)
    return {f'{k}-{i + 1}': o[j * 3 + i] for j, k in enumerate(SHARP_SHIFTS) for i in range(3)}


log('embedding train / val / test and the shifted val sets…')
E = {s: embed(imgs[s]) for s in ('train', 'val', 'test')}
shifted_imgs = {}
for name, (levels, fn) in SHIFTS.items():
    for i, lv in enumerate(levels):
        shifted_imgs[f'{name}-{i + 1}'] = fn(imgs['val'].astype(np.float64), lv, np.random.default_rng(9000 + i))
shift_notes = {}
if not args.no_sharp:
    try:
        shifted_imgs.update(sharp_shifts(imgs['val']))
    except (subprocess.CalledProcessError, FileNotFoundError) as err:
        shift_notes['sharp'] = f'resolution and JPEG skipped: {err}'
        log(shift_notes['sharp'])
for k, v in shifted_imgs.items():
    E[k] = embed(v)
log('  sets:', {k: v.shape[0] for k, v in E.items()})
pixel_change = {k: float(np.mean(np.abs(v.astype(float) - imgs['val'].astype(float)))) for k, v in shifted_imgs.items()}


# ---------------------------------------------------------------- representations
def fit_rep(ref, rep):
    """Returns f(x) -> features: PCA (centred, not scaled, as embedding-summary.ts) or all 64 standardised."""
    mu = ref.mean(0)
    if rep.startswith('pca'):
        k = int(rep[3:])
        _, _, vt = np.linalg.svd(ref - mu, full_matrices=False)
        comps = vt[:k]
        return lambda x: (x - mu) @ comps.T
    sd = ref.std(0, ddof=1) + 1e-12
    return lambda x: (x - mu) / sd


def sqdist(a, b):
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T, 0.0)


# ---------------------------------------------------------------- 2. online MMD (Cobb et al. 2022)
def gpd_quantile(x, p, tail=0.01, force_gpd=False):
    """(1 - p) quantile of x; beyond the sample's reach (fewer than 20 exceedances expected) by a generalized
    Pareto fit to the excesses over the (1 - tail) quantile (peaks over threshold)."""
    n = len(x)
    if p * n >= 20 and not force_gpd:
        return float(np.quantile(x, 1 - p)), 'empirical'
    u = np.quantile(x, 1 - tail)
    exc = x[x > u] - u
    c, _, scale = stats.genpareto.fit(exc, floc=0)
    return float(u + stats.genpareto.ppf(1 - p / tail, c, loc=0, scale=scale)), 'gpd'


class OnlineMMD:
    """MMDDriftOnline's algorithm (alibi-detect cd/pytorch/mmd_online.py), in numpy.

    Reference x_ref (n). Kernel exp(-d^2 / (2 sigma^2)), sigma^2 = median pairwise d^2 / 2 (sigma_median).
    Thresholds: B permutations of the reference; each splits it into a sub-reference (n - (2W - 1)) and an
    extended test window of 2W - 1; the statistic of the window starting at w (w = 0..W-1) has threshold
    b_w = its (1 - 1/ERT) quantile among the permutations with no exceedance at earlier w (conditional).
    Online: the sub-reference and an initial window of W reference points (t = 0) are drawn once; each new
    case enters the window (t += 1) and the detector alarms when MMD^2 > b_min(t, W-1).
    Departure from alibi: the (1 - 1/ERT) quantile needs B >> ERT bootstraps (alibi's own warning); with
    ERT = 306,000 this is out of reach, so the quantile is extrapolated by a generalized Pareto fit to the
    top 1 % of B permutations (gpd_quantile)."""

    def __init__(self, x_ref, W, ert, B, seed, force_gpd=False):
        rng = np.random.default_rng(seed)
        self.x_ref, self.W, self.n = x_ref, W, len(x_ref)
        D = sqdist(x_ref, x_ref)
        iu = np.triu_indices(self.n, 1)
        self.med = float(np.median(D[iu]))  # = alibi's n_median element of the sorted full matrix
        K = np.exp(-D / self.med)
        self.K = K
        etw, n = 2 * W - 1, self.n
        rw = n - etw
        self.rw = rw
        R = K.sum(0)
        S_off = K.sum() - n
        fpr = 1.0 / ert
        mmds = np.empty((B, W))
        chunk = max(1, 4_000_000 // (etw * etw))
        for s in range(0, B, chunk):
            b = min(chunk, B - s)
            y = np.argsort(rng.random((b, n)), axis=1)[:, -etw:]  # a uniform permutation's last 2W - 1
            KYY = K[y[:, :, None], y[:, None, :]]  # b x etw x etw
            colsum = R[y] - KYY.sum(1)  # sum over the sub-reference of k(x, y_j)
            kxx = (S_off - (KYY.sum((1, 2)) - etw) - 2 * colsum.sum(1)) / (rw * (rw - 1))
            P = np.zeros((b, etw + 1, etw + 1))
            P[:, 1:, 1:] = KYY.cumsum(1).cumsum(2)
            C = np.concatenate([np.zeros((b, 1)), colsum.cumsum(1)], 1)
            for w in range(W):
                blk = P[:, w + W, w + W] - P[:, w, w + W] - P[:, w + W, w] + P[:, w, w]
                mmds[s:s + b, w] = kxx + (blk - W) / (W * (W - 1)) - 2 * (C[:, w + W] - C[:, w]) / (rw * W)
        alive = np.ones(B, bool)
        self.thresholds, self.methods = [], []
        for w in range(W):
            th, how = gpd_quantile(mmds[alive, w], fpr, force_gpd=force_gpd)
            self.thresholds.append(th)
            self.methods.append(how)
            alive &= mmds[:, w] < th
        self.thresholds = np.array(self.thresholds)
        # reference split for the online state (alibi: redrawn until the initial window does not alarm)
        while True:
            perm = rng.permutation(n)
            self.ref_inds, self.init_inds = perm[:rw], perm[-W:]
            Ks = K[np.ix_(self.ref_inds, self.ref_inds)]
            self.kxx_sub = (Ks.sum() - rw) / (rw * (rw - 1))
            if self._mmd_of(self.init_inds) < self.thresholds[0]:
                break
        self.x_sub = x_ref[self.ref_inds]

    def _mmd_of(self, inds):
        W = self.W
        kyy = self.K[np.ix_(inds, inds)]
        kxy = self.K[np.ix_(self.ref_inds, inds)]
        return self.kxx_sub + (kyy.sum() - W) / (W * (W - 1)) - 2 * kxy.mean()

    def pool(self, x):
        """A finite pool of stream points, fed by index: the initial window's W reference points first (index
        0..W-1), then x. Kernel sums with the sub-reference and the pool's own kernel matrix, computed once."""
        p = np.vstack([self.x_ref[self.init_inds], x])
        return dict(kx=np.exp(-sqdist(p, self.x_sub) / self.med).sum(1), kpp=np.exp(-sqdist(p, p) / self.med))


class Streams:
    """Independent runs of online-MMD detectors, stepped together (one numpy step for all runs): runs[i] is
    (detector, pool, number of runs). Each run is fed one case of its pool per step. An alarm resets the run
    to its initial state (t = 0, the initial reference window), as alibi's reset_state."""

    def __init__(self, runs):
        W = runs[0][0].W
        self.W = W
        M = max(len(p['kx']) for _, p, _ in runs)
        G = len(runs)
        self.kpp = np.zeros((G, M, M))
        self.kx = np.zeros((G, M))
        for i, (_, p, _) in enumerate(runs):
            m = len(p['kx'])
            self.kpp[i, :m, :m] = p['kpp']
            self.kx[i, :m] = p['kx']
        self.g = np.concatenate([np.full(S, i) for i, (_, _, S) in enumerate(runs)])
        self.kxx_sub = np.array([d.kxx_sub for d, _, _ in runs])[self.g]
        self.rw = np.array([d.rw for d, _, _ in runs])[self.g]
        self.th = np.array([d.thresholds for d, _, _ in runs])[self.g]  # S x W
        S = len(self.g)
        self.S = S
        self.idx = np.zeros((S, W), int)
        self.colsum = np.zeros((S, W))
        self.kyy = np.zeros((S, W, W))
        self.kyy_sum = np.zeros(S)
        self.t = np.zeros(S, int)
        self.reset(np.ones(S, bool))

    def reset(self, mask):
        W = self.W
        g = self.g[mask]
        self.idx[mask] = np.arange(W)
        self.colsum[mask] = self.kx[g, :W]
        self.kyy[mask] = self.kpp[g, :W, :W]
        self.kyy_sum[mask] = self.kpp[g, :W, :W].sum((1, 2))
        self.t[mask] = 0

    def step(self, r):
        """Case r[s] (index into its pool's x, not counting the initial window) to run s; returns the alarm mask."""
        W, S = self.W, self.S
        r = r + W
        pos = self.t % W  # the oldest point's slot, overwritten now
        krow = self.kpp[self.g[:, None], r[:, None], self.idx]
        ar = np.arange(S)
        krow[ar, pos] = 1.0
        self.kyy_sum += 2 * (krow.sum(1) - self.kyy[ar, pos, :].sum(1))  # row and column pos replaced
        self.kyy[ar, pos, :] = krow
        self.kyy[ar, :, pos] = krow
        self.idx[ar, pos] = r
        self.colsum[ar, pos] = self.kx[self.g, r]
        self.t += 1
        mmd = self.kxx_sub + (self.kyy_sum - W) / (W * (W - 1)) - 2 * self.colsum.sum(1) / (self.rw * W)
        alarm = mmd > self.th[ar, np.minimum(self.t, W - 1)]
        if alarm.any():
            self.reset(alarm)
        return alarm


def run_false_alarms(runs, seed, n_cases):
    """runs: (detector, x_pool, number of streams); returns the alarm count of every stream, runs in order."""
    st = Streams([(d, d.pool(x), S) for d, x, S in runs])
    sizes = np.array([len(x) for _, x, _ in runs])[st.g]
    rng = np.random.default_rng(seed)
    alarms = np.zeros(st.S, int)
    for _ in range(n_cases):
        alarms += st.step((rng.random(st.S) * sizes).astype(int))
    return alarms


def run_delays(det, x_warm, shifted, S, seed):
    """Per run: 1,000 cases resampled from x_warm (alarms there restart the run), then cases resampled from
    its shifted set until the first alarm (cap 100 days); the delay counts the shifted cases up to the alarm.
    shifted: list of arrays, S runs each, stepped together."""
    nw = len(x_warm)
    st = Streams([(det, det.pool(np.vstack([x_warm, x])), S) for x in shifted])
    ns = np.array([len(x) for x in shifted])[st.g]
    rng = np.random.default_rng(seed)
    warm_alarms = np.zeros(st.S, int)
    for _ in range(WARMUP):
        warm_alarms += st.step((rng.random(st.S) * nw).astype(int))
    delay = np.full(st.S, np.inf)
    live = np.ones(st.S, bool)
    for c in range(1, CAP + 1):
        a = st.step(nw + (rng.random(st.S) * ns).astype(int))
        delay[a & live] = c
        live &= ~a
        if not live.any():
            break
    return [(delay[st.g == i], int(warm_alarms[st.g == i].sum())) for i in range(len(shifted))]


def summarise(delay):
    fin = delay[np.isfinite(delay)]

    def q(p):  # linear interpolation as the first proof's; None: beyond the cap
        v = float(np.quantile(np.where(np.isfinite(delay), delay, 1e12), p))
        return v if v <= CAP else None

    med = q(0.5)
    return dict(seeds=len(delay), medianDelayImages=med, q25=q(0.25), q75=q(0.75),
                medianDelayDays=None if med is None else round(med / PER_DAY, 3),
                withinOneDay=float(np.mean(delay <= PER_DAY)), withinOneWeek=float(np.mean(delay <= 7 * PER_DAY)),
                detected=int(len(fin)))


windows = [int(w) for w in args.windows.split(',')]
reps = args.reps.split(',')
fa_reps = args.fa_reps.split(',') if args.fa_reps else reps
results = dict(
    description='Online MMD (Cobb et al. 2022) on the demo model embedding; see docs/monitoring.md, third round',
    target=dict(familyCasesBetweenFalseAlarms=FAMILY_TARGET, familySize=FAMILY_SIZE, ertPerDetector=ERT),
    settings=dict(seeds=args.seeds, faStreams=args.fa_streams, crossfitSplits=args.crossfit_splits,
                  bootstraps=args.bootstraps, windows=windows, reps=reps, warmupCases=WARMUP, capCases=CAP,
                  streamDays=DAYS, perDay=PER_DAY),
    shiftNotes=shift_notes, pixelChangeMeanAbs=pixel_change,
)

# ---- effect sizes in the representation: whole-set MMD^2 against val (k = 8, val's median bandwidth, unbiased)
# and the largest mean shift over the 8 components in val SDs
if 'effects' in parts:
    f8 = fit_rep(E['val'], 'pca8')
    V = f8(E['val'])
    med = float(np.median(sqdist(V, V)[np.triu_indices(len(V), 1)]))

    def mmd2(X, Y):
        kxx, kyy, kxy = (np.exp(-sqdist(a, b) / med) for a, b in ((X, X), (Y, Y), (X, Y)))
        n, m = len(X), len(Y)
        return float((kxx.sum() - n) / (n * (n - 1)) + (kyy.sum() - m) / (m * (m - 1)) - 2 * kxy.mean())

    results['effects'] = {name: dict(mmd2VsVal=mmd2(V, f8(x)),
                                     maxMeanShiftSd=float(np.max(np.abs((f8(x).mean(0) - V.mean(0)) / V.std(0)))))
                          for name, x in E.items() if name not in ('train', 'val')}
    log('  effects:', {k: round(v['mmd2VsVal'], 4) for k, v in results['effects'].items()})

# ---- 2a. false alarms, cross-fitted (design on a random half of val, streams from the other half) and
# bootstrap of the reference (design on all val, streams resampled from val: checks the thresholds)
log(f'false alarms: {args.fa_streams} streams of {DAYS * PER_DAY} cases per setting')
fa = []
if 'fa' not in parts:
    fa_reps = []
per_split = max(1, args.fa_streams // args.crossfit_splits)
for rep in fa_reps:
    for W in windows:
        runs, th_last, methods = [], [], set()
        for split in range(args.crossfit_splits):
            rng = np.random.default_rng(50_000 + split)
            order = rng.permutation(len(E['val']))
            half = len(order) // 2
            a, b = E['val'][order[:half]], E['val'][order[half:]]
            f = fit_rep(a, rep)
            det = OnlineMMD(f(a), W, ERT, args.bootstraps, seed=70_000 + split)
            th_last.append(det.thresholds[-1])
            methods.update(det.methods)
            runs.append((det, f(b), per_split))
        al = run_false_alarms(runs, 60_000 + W, DAYS * PER_DAY)
        tot, streams = int(al.sum()), len(al)
        f = fit_rep(E['val'], rep)
        det = OnlineMMD(f(E['val']), W, ERT, args.bootstraps, seed=71_000)
        al = run_false_alarms([(det, f(E['val']), args.fa_streams)], 61_000, DAYS * PER_DAY)
        row = dict(rep=rep, W=W,
                   crossFitted=dict(splits=args.crossfit_splits, streams=streams, alarms=tot,
                                    per90Days=round(tot / streams, 4), thresholdMedian=float(np.median(th_last))),
                   bootstrapOfVal=dict(streams=args.fa_streams, alarms=int(al.sum()),
                                       per90Days=round(float(al.sum()) / args.fa_streams, 4),
                                       streamsWithAlarm=int((al > 0).sum()), threshold=float(det.thresholds[-1])),
                   thresholdMethods=sorted(methods))
        fa.append(row)
        log(f'  {rep} W={W}: cross-fitted {tot}/{streams} streams; bootstrap of val {int(al.sum())}/{args.fa_streams}')
if fa:
    results['falseAlarms'] = fa

# ---- 2a'. the thresholds at ERTs the bootstrap reaches (1,000 with 20,000 permutations; 10,000 with 200,000),
# empirical and by the generalized Pareto extrapolation used above (from 20,000), on streams resampled from
# the reference itself
log('threshold check at ERT 1,000 and 10,000 (pca8, all val)…')
checks = []
f8 = fit_rep(E['val'], 'pca8')
for W in windows if 'check' in parts else []:
    for ert, B, force in ((1000, 20_000, False), (1000, 20_000, True), (10_000, 200_000, False), (10_000, 20_000, True)):
        det = OnlineMMD(f8(E['val']), W, ert, B, seed=72_000, force_gpd=force)
        al = run_false_alarms([(det, f8(E['val']), 50)], 62_000, 20_000)
        checks.append(dict(W=W, ert=ert, bootstraps=B, method='gpd' if force else 'empirical',
                           threshold=float(det.thresholds[-1]), streams=50, cases=20_000, alarms=int(al.sum()),
                           realisedMeanRunLength=round(50 * 20_000 / max(1, int(al.sum())), 1)))
        log(f'  W={W} ERT {ert} B {B} {checks[-1]["method"]}: h {det.thresholds[-1]:.5f}, '
            f'realised run length {checks[-1]["realisedMeanRunLength"]}')
if checks:
    results['thresholdCheck'] = checks

# ---- 2b. detection delays: designed on all 524 val embeddings (PCA fitted on them, as vigil model init)
log(f'detection delays: {args.seeds} seeds per shifted set')
targets = ['test'] + [f'{k}-{i + 1}' for k in list(SHIFTS) + list(SHARP_SHIFTS) for i in range(3) if f'{k}-{i + 1}' in E] + ['val']
delays = []
for rep in reps if 'delays' in parts else []:
    f = fit_rep(E['val'], rep)
    for W in windows:
        det = OnlineMMD(f(E['val']), W, ERT, args.bootstraps, seed=71_000)
        out = run_delays(det, f(E['val']), [f(E[name]) for name in targets], args.seeds, 100_000)
        for name, (d, wa) in zip(targets, out):
            delays.append(dict(rep=rep, W=W, source=name, warmupAlarms=wa, threshold=float(det.thresholds[-1]),
                               **summarise(d)))
        log(f'  {rep} W={W}: test median {[r["medianDelayImages"] for r in delays if r["rep"] == rep and r["W"] == W][0]}')
if delays:
    results['delays'] = delays


# ---------------------------------------------------------------- 3. how much information per image
def cv_logratio(Xv, Xt, C, seed=0):
    """Held-out estimate of log p_test(x) / p_val(x) for every image (5-fold, stratified): the classifier's
    log-odds minus the log of the class-size ratio of its training folds."""
    X = np.vstack([Xv, Xt])
    y = np.r_[np.zeros(len(Xv)), np.ones(len(Xt))]
    r = np.empty(len(y))
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(X, y):
        mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-9
        clf = LogisticRegression(C=C, max_iter=5000).fit((X[tr] - mu) / sd, y[tr])
        prior = math.log(y[tr].mean() / (1 - y[tr].mean()))
        r[te] = clf.decision_function((X[te] - mu) / sd) - prior
    return r[:len(Xv)], r[len(Xv):], roc_auc_score(y, r)


def kl_estimates(rv, rt):
    plug = float(rt.mean())  # E_test[log ratio]
    dv = float(rt.mean() - np.log(np.mean(np.exp(rv))))  # Donsker-Varadhan lower bound (held-out r)
    return plug, dv


def write_results():
    results['runSeconds'] = round(time.time() - T0, 1)
    with open(args.out, 'w') as fh:
        json.dump(results, fh, indent=1)
    log('wrote', args.out)


if 'info' not in parts:
    write_results()
    sys.exit(0)
log('KL(test || val) from cross-validated classifiers…')
kl_rows = []
reprs = {
    'embedding (64, standardised)': (E['val'], E['test']),
    'embedding PCA 8': (fit_rep(E['val'], 'pca8')(E['val']), fit_rep(E['val'], 'pca8')(E['test'])),
    'pixels (784)': (imgs['val'].reshape(len(imgs['val']), -1) / 255.0, imgs['test'].reshape(len(imgs['test']), -1) / 255.0),
}
for name, (Xv, Xt) in reprs.items():
    for C in (0.001, 0.01, 0.1, 1.0):
        ests = []
        for seed in range(5):
            rv, rt, auc = cv_logratio(Xv, Xt, C, seed)
            ests.append((auc, *kl_estimates(rv, rt)))
        a = np.array(ests)
        kl_rows.append(dict(representation=name, C=C, auc=float(a[:, 0].mean()), klPlugIn=float(a[:, 1].mean()),
                            klDonskerVaradhan=float(a[:, 2].mean()), repeats=5))
        log(f'  {name} C={C}: AUC {a[:, 0].mean():.3f} KL plug-in {a[:, 1].mean():.4f} DV {a[:, 2].mean():.4f}')
best = max(kl_rows, key=lambda r: r['klDonskerVaradhan'])
# bootstrap interval of the best row's DV estimate (resampling images of the held-out scores of seed 0)
Xv, Xt = reprs[best['representation']]
rv, rt, _ = cv_logratio(Xv, Xt, best['C'], 0)
brng = np.random.default_rng(5)
boots = [kl_estimates(rv[brng.integers(len(rv), size=len(rv))], rt[brng.integers(len(rt), size=len(rt))])[1]
         for _ in range(2000)]
kl = best['klDonskerVaradhan']
lorden = {}
for label, g in (('family', FAMILY_TARGET), ('perDetector', ERT)):
    lo, hi = np.quantile(boots, [0.05, 0.95])
    lorden[label] = dict(gamma=g, lnGamma=math.log(g), images=math.log(g) / kl, days=math.log(g) / kl / PER_DAY,
                         imagesAtKl95Upper=math.log(g) / hi, imagesAtKl95Lower=math.log(g) / max(lo, 1e-9))
results['information'] = dict(classifiers=kl_rows, best=best,
                              klBootstrap90=[float(x) for x in np.quantile(boots, [0.05, 0.95])], lorden=lorden)
log(f'  best {best["representation"]} C={best["C"]}: KL {kl:.4f}; Lorden family {lorden["family"]["images"]:.0f} images')


# ---- the detector that knows the shift: a CUSUM on the held-out log-likelihood ratio r (classifier trained
# on val vs test, each image scored by a model that did not see it). Not deployable (it was fitted on the
# shifted data); it shows what the information per image allows. h from the Brook-Evans chain on r's
# empirical distribution under val, at ARL gamma; delays as for the MMD detector (1,000 val cases, then test).
def cusum_arl(x, h, m=400):
    w = h / (m - 0.5)
    s0 = np.arange(m) * w
    nxt = np.floor((s0[:, None] + x[None, :]) / w + 0.5).astype(int)
    nxt = np.maximum(nxt, 0)
    Q = np.zeros((m, m))
    for i in range(m):
        j = nxt[i][nxt[i] < m]
        Q[i] += np.bincount(j, minlength=m) / len(x)
    return float(np.linalg.solve(np.eye(m) - Q, np.ones(m))[0])


def cusum_h(x, gamma):
    from scipy.optimize import brentq
    hi = 1.0
    while cusum_arl(x, hi) < gamma:
        hi *= 1.5
    return brentq(lambda h: math.log(cusum_arl(x, h)) - math.log(gamma), 1e-3, hi, xtol=1e-4)


def cusum_delays(rv, rt, h, S, seed):
    rng = np.random.default_rng(seed)
    st = np.zeros(S)
    warm = 0
    for _ in range(WARMUP):
        st = np.maximum(0, st + rv[rng.integers(len(rv), size=S)])
        a = st >= h
        warm += int(a.sum())
        st[a] = 0
    delay = np.full(S, np.inf)
    live = np.ones(S, bool)
    for c in range(1, CAP + 1):
        st = np.maximum(0, st + rt[rng.integers(len(rt), size=S)])
        a = st >= h
        delay[a & live] = c
        live &= ~a
        st[a] = 0
        if not live.any():
            break
    return delay, warm


log('oracle CUSUM on the held-out log-likelihood ratio…')
oracle = []
for name in reprs:
    rows = [r for r in kl_rows if r['representation'] == name]
    br = max(rows, key=lambda r: r['klDonskerVaradhan'])
    Xv, Xt = reprs[name]
    rv, rt, auc = cv_logratio(Xv, Xt, br['C'], 0)
    for label, g in (('family', FAMILY_TARGET), ('perDetector', ERT)):
        h = cusum_h(rv, g)
        d, warm = cusum_delays(rv, rt, h, args.seeds, 100_000)
        oracle.append(dict(representation=name, C=br['C'], gamma=g, target=label, h=h, warmupAlarms=warm,
                           **summarise(d)))
        log(f'  {name} gamma={g}: h {h:.3f}, median delay {oracle[-1]["medianDelayImages"]}')
results['oracleCusum'] = oracle
write_results()
