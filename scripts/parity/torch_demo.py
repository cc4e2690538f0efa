# Learning-parity reference for docs/BENCHMARKS.md ("Learning parity with PyTorch"): run with /usr/bin/python3 (Debian python3-torch, python3-torchvision).
# Reference: same tiny ResNet-50 (torchvision Bottleneck, widths as src-main/ml/models/resnet.ts)
# trained with the same recipe on the demo dataset. CPU, 1 thread.
import argparse, math, time
import torch, torch.nn as nn, torch.nn.functional as F
import torchvision, torchvision.transforms as T

p = argparse.ArgumentParser()
p.add_argument('--root', required=True, help='the demo dataset folder (<data dir>/demo-dataset)')
p.add_argument('--width', type=float, default=1 / 16)
p.add_argument('--lr', type=float, default=0.01)
p.add_argument('--steps', type=int, default=150)
p.add_argument('--bs', type=int, default=32)
p.add_argument('--seed', type=int, default=0)
p.add_argument('--every', type=int, default=50)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--eval-every', type=int, default=0)
args = p.parse_args()
torch.manual_seed(args.seed)
torch.set_num_threads(args.threads)


def sw(base, m):
    return max(1, int(math.floor(base * m + 0.5)))  # JS Math.round


class Bottleneck(nn.Module):
    def __init__(self, inC, planes, stride, down):
        super().__init__()
        self.conv1 = nn.Conv2d(inC, planes, 1, bias=False); self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False); self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False); self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = nn.Sequential(nn.Conv2d(inC, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)) if down else None

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        s = self.downsample(x) if self.downsample is not None else x
        return F.relu(y + s)


class Net(nn.Module):
    def __init__(self, nc, m):
        super().__init__()
        c = sw(64, m)
        self.conv1 = nn.Conv2d(3, c, 7, 2, 3, bias=False); self.bn1 = nn.BatchNorm2d(c)
        layers = []
        inC = c
        for s, (n, pl) in enumerate(zip([3, 4, 6, 3], [64, 128, 256, 512])):
            planes = sw(pl, m)
            blocks = []
            for b in range(n):
                stride = 2 if (b == 0 and s > 0) else 1
                blocks.append(Bottleneck(inC, planes, stride, b == 0))
                inC = planes * 4
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.fc = nn.Linear(inC, nc)
        for mod in self.modules():
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode='fan_out', nonlinearity='relu')

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
train_tf = T.Compose([T.RandomResizedCrop(32, scale=(0.35, 1.0)), T.RandomHorizontalFlip(),
                      T.RandomApply([T.ColorJitter(0.2, 0.2, 0.2, 0.05)], p=0.5), T.ToTensor(), norm])
val_tf = T.Compose([T.Resize((32, 32)), T.ToTensor(), norm])
train_ds = torchvision.datasets.ImageFolder(args.root + '/train', train_tf)
val_ds = torchvision.datasets.ImageFolder(args.root + '/val', val_tf)
g = torch.Generator(); g.manual_seed(args.seed)
loader = torch.utils.data.DataLoader(train_ds, batch_size=args.bs, shuffle=True, drop_last=True, generator=g, num_workers=0)

model = Net(len(train_ds.classes), args.width)
opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
print(f'width {args.width} lr {args.lr} seed {args.seed} params {sum(p.numel() for p in model.parameters())}', flush=True)
def evaluate():
    model.eval(); c = n = 0; l = 0.0
    with torch.no_grad():
        for x, y in torch.utils.data.DataLoader(val_ds, batch_size=100):
            out = model(x); l += F.cross_entropy(out, y, reduction='sum').item(); c += (out.argmax(1) == y).sum().item(); n += len(y)
    return 100 * c / n, l / n, n


step = 0; t0 = time.time()
run_c = run_n = 0; run_l = 0.0
while step < args.steps:
    for x, y in loader:
        model.train()
        out = model(x); loss = F.cross_entropy(out, y)
        opt.zero_grad(); loss.backward(); opt.step()
        step += 1
        run_c += (out.argmax(1) == y).sum().item(); run_n += len(y); run_l += loss.item() * len(y)
        if step % args.every == 0:
            print(f'step {step} train top1 {100 * run_c / run_n:.2f} loss {run_l / run_n:.4f} ({time.time() - t0:.0f}s)', flush=True)
            run_c = run_n = 0; run_l = 0.0
        if args.eval_every and step % args.eval_every == 0 and step < args.steps:
            print('  val top1 %.2f loss %.4f' % evaluate()[:2], flush=True)
        if step >= args.steps:
            break
t1, l1, n = evaluate()
print(f'final val top1 {t1:.2f} loss {l1:.4f} (n={n})', flush=True)
