#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layer rule, checked on every build: a file includes only headers of its own layer or
of layers below it (cmd -> report -> load -> kernel -> base), headers live in the folder of
their layer, and no two files of one layer include each other. Prints the include graph
between layers; exits 1 on a violation."""
import collections
import glob
import os
import re
import sys

ORDER = ["cmd", "report", "load", "kernel", "base"]
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
os.chdir(root)
bad = []
edges = collections.Counter()
includes = {}
for path in glob.glob("src/*/*.c") + glob.glob("include/portex/*/*.h"):
    layer = path.split("/")[-2]
    if layer not in ORDER:
        bad.append(f"{path}: not in a layer folder ({', '.join(ORDER)})")
        continue
    mod = os.path.splitext(os.path.basename(path))[0]
    deps = re.findall(r'#include "portex/(\w+)/(\w+)\.h"', open(path).read())
    includes.setdefault((layer, mod), set()).update(d for d in deps if d != (layer, mod))
    for dl, dm in deps:
        if dl not in ORDER:
            bad.append(f"{path}: includes portex/{dl}/{dm}.h from no layer")
        elif ORDER.index(dl) < ORDER.index(layer):
            bad.append(f"{path}: includes portex/{dl}/{dm}.h, a layer above {layer}")
        elif dl != layer:
            edges[(layer, dl)] += 1
for (layer, mod), deps in includes.items():
    for dep in deps:
        if dep[0] == layer and (layer, mod) in includes.get(dep, set()):
            bad.append(f"{layer}/{mod} and {dep[0]}/{dep[1]} include each other")
print("layer includes (from -> to: count):")
for (a, b), n in sorted(edges.items(), key=lambda e: (ORDER.index(e[0][0]), ORDER.index(e[0][1]))):
    print(f"  {a:6} -> {b:6} {n}")
for b in sorted(set(bad)):
    print("FAIL  " + b)
print("layers: ok" if not bad else f"layers: {len(set(bad))} violations")
sys.exit(1 if bad else 0)
