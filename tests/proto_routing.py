#!/usr/bin/env python3
"""proto/README.md section 13 stays true: its Python block gives the vectors of its table, and
the partitions and derived ids jobctl partition gives for random ids (jobd's C, common/jobd_route.c).
Usage: proto_routing.py proto/README.md path/to/jobctl"""
import json
import random
import re
import subprocess
import sys

readme, jobctl = sys.argv[1], sys.argv[2]
text = open(readme, encoding="utf-8").read()
section = text[text.index("## 13. Routing"):]
code = re.search(r"```python\n(.*?)```", section, re.S)
if not code:
    sys.exit("proto_routing: no Python block in section 13 of " + readme)
names = {}
exec(code.group(1), names)
murmur2, partition, derived_id = names["murmur2"], names["partition"], names["derived_id"]

failures = []


def check(what, got, want):
    if got != want:
        failures.append(f"{what}: {got!r}, expected {want!r}")


#  The vectors as the section's table and text say them.
check("murmur2('21') as int32", murmur2(b"21") - (1 << 32), -973932308)
vectors = re.findall(r"^\| `([^`]+)` \| partition (\d+) of 32 \|$", section, re.M)
check("partition vectors found in the table", len(vectors), 3)
for job_id, want in vectors:
    check(f"partition({job_id!r})", partition(job_id), int(want))
check("partition('')", partition(""), 25)
derived = re.findall(r"\(`([^`]+)`, `([^`]+)`\) →\s+`(job-x[0-9A-Z]{26})`", section)
check("derived id vectors found in the text", len(derived), 2)
for backend, ext, want in derived:
    check(f"derived_id({backend!r}, {ext!r})", derived_id(backend, ext), want)

#  jobctl (jobd's C) and the README's Python agree on random ids.
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else None)
alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/é€"
for n in range(50):
    job_id = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
    count = rng.choice([1, 7, 32, 100, 65535])
    args = [jobctl, "-o", "json", "partition", "--", job_id, str(count)]  # ids may start with -
    if n % 3 == 0:
        backend = rng.choice(["kafka", "livy", "yarn", "standalone-1"])
        args[3:3] = ["--backend", backend]
        want_id = derived_id(backend, job_id)
    else:
        want_id = job_id
    out = subprocess.run(args, capture_output=True, text=True, timeout=20)
    if out.returncode != 0:
        failures.append(f"{args}: exit {out.returncode}: {out.stderr.strip()}")
        continue
    answer = json.loads(out.stdout)
    check(f"jobctl's id for {args[3:]}", answer["job"], want_id)
    check(f"jobctl's partition for {args[3:]}", answer["partition"], partition(want_id, count))

for failure in failures:
    print("proto_routing:", failure)
sys.exit(1 if failures else 0)
