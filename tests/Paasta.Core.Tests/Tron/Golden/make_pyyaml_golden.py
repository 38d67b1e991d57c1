#!/usr/bin/env python3
"""Regenerates pyyaml-golden.json: random documents and the bytes PyYAML writes for them.

PyYamlWriter must reproduce both of PyYAML's emitters exactly (yaml.dump(..., default_flow_style=False)
with CSafeDumper and with SafeDumper). Run with the PyYAML you want to compare against; the file records
its version. Deterministic (fixed seed), so a re-run with the same PyYAML changes nothing.
"""
import json
import random
import string

import yaml

random.seed(20260301)
ALPHABET = string.printable + "\x85\u2028\u00a0\ufeff\U0001F600\u00e9\u6f22\x00\x07\x1b"
SPECIAL = ["", " ", "-", "- x", "? x", ": x", "x:", "a:b", "#c", "a #c", "---", "...", "'", '"', "\\", "{", "[", ",",
           "&a", "*a", "!t", "|", ">", "%", "@", "`", "1", "-1", "+1", ".5", "1.", "1e5", "1.0e+5", "0b101", "0o17",
           "0x1f", "1:30", "1:30.5", ".inf", "-.Inf", ".NaN", "NULL", "~", "y", "yes", "No", "ON", "True", "FALSE",
           "2001-12-14", "2001-12-14t21:59:43.10-05:00", "<<", "=", "a\tb", "x\r\ny", "end\n", "\nstart",
           "cron */5 * * * *", "daily 04:00:00", "ls /var/log/app/log_{shortdate-1}.txt"]


def rstr():
    mode = random.random()
    if mode < 0.25:
        return "".join(random.choice(ALPHABET) for _ in range(random.randint(0, 60)))
    if mode < 0.55:
        words = ["".join(random.choice(string.ascii_letters + string.digits + "-_.:#'\"/{}$") for _ in range(random.randint(1, 10)))
                 for _ in range(random.randint(1, 22))]
        return random.choice([" ", " ", " ", "  ", "\n", "\n  ", " \n"]).join(words)
    if mode < 0.85:
        return random.choice(SPECIAL)
    return "word " * random.randint(12, 30) + random.choice(["", " ", "\n", "\t"])


def rkey():
    return random.choice(["a", "b", "Z", "_", "x y", "job.action", "yes", "1", "-k", "k:", "#k", "\u00e9", "env", "PAASTA_SERVICE"])


def rval(depth=0):
    r = random.random()
    if depth > 3 or r < 0.45:
        c = random.random()
        if c < 0.7:
            return rstr()
        if c < 0.8:
            return random.randint(-10 ** 6, 10 ** 6)
        if c < 0.9:
            return random.choice([0.5, 1.0, 1e16, 1e17, 1e-4, 1e-5, 123.456, -0.0, 3.14159265358979, 2.5e-10])
        return random.choice([True, False, None])
    if r < 0.75:
        return {rkey() + str(i): rval(depth + 1) for i in range(random.randint(0, 4))}
    return [rval(depth + 1) for _ in range(random.randint(0, 4))]


cases = []
while len(cases) < 300:
    value = rval()
    if not isinstance(value, dict):
        value = {"k": value}
    cases.append({
        "value": value,
        "SafeDumper": yaml.dump(value, Dumper=yaml.SafeDumper, default_flow_style=False),
        "CSafeDumper": yaml.dump(value, Dumper=yaml.CSafeDumper, default_flow_style=False),
    })
with open("pyyaml-golden.json", "w") as f:
    json.dump({"pyyaml": yaml.__version__, "cases": cases}, f, ensure_ascii=True, separators=(",", ":"))
