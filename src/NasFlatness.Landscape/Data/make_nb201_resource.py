#!/usr/bin/env python3
"""Builds nb201.csv.gz, the NAS-Bench-201 table embedded in NasFlatness.Landscape.

Usage (from the repository root):
    python3 src/NasFlatness.Landscape/Data/make_nb201_resource.py ../shared/data/nb201 src/NasFlatness.Landscape/Data/nb201.csv.gz

Inputs: nb201_hp200_test_acc.csv and nb201_cifar10valid_hp200_full_ochoa.csv (see Data/README.md).
Numbers are copied as text, unchanged, so the embedded table parses to exactly the same doubles as the
source files. The gzip header carries no timestamp, so the output is byte-for-byte reproducible.
"""
import csv
import gzip
import io
import os
import sys

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
SPACE_SIZE = 15625


def encode(arch):
    digits = []
    for group in arch.split("+"):
        for token in group.strip("|").split("|"):
            digits.append(str(OPS.index(token.rsplit("~", 1)[0])))
    assert len(digits) == 6, arch
    return "".join(digits)


def main(src, dst):
    with open(os.path.join(src, "nb201_hp200_test_acc.csv"), newline="") as f:
        acc = list(csv.DictReader(f))
    with open(os.path.join(src, "nb201_cifar10valid_hp200_full_ochoa.csv"), newline="") as f:
        valid = list(csv.DictReader(f))
    assert len(acc) == SPACE_SIZE and len(valid) == SPACE_SIZE
    classes, class_id = [], {}
    for row in acc:
        key = row["nats_unique_str"]
        if key not in class_id:
            class_id[key] = len(classes)
            classes.append(key)
    out = io.StringIO()
    out.write("# NAS-Bench-201 / NATS-Bench topology search space (Dong & Yang, ICLR 2020; MIT license).\n")
    out.write("# Made by make_nb201_resource.py from nb201_hp200_test_acc.csv and nb201_cifar10valid_hp200_full_ochoa.csv.\n")
    out.write(f"#classes,{len(classes)}\n")
    for c in classes:
        out.write(c + "\n")
    # One row per architecture, in benchmark index order (the row number is the index).
    out.write("ops,cifar10_test_acc,cifar100_test_acc,imagenet16_120_test_acc,class,"
              "c10valid_train_loss,c10valid_valid_loss,c10valid_test_loss,c10valid_valid_acc\n")
    for i, (a, v) in enumerate(zip(acc, valid)):
        assert int(a["index"]) == i and int(v["index"]) == i and a["arch"] == v["arch_str"], i
        out.write(",".join([
            encode(a["arch"]),
            a["cifar10_test_acc_hp200"], a["cifar100_test_acc_hp200"], a["imagenet16_120_test_acc_hp200"],
            str(class_id[a["nats_unique_str"]]),
            v["train-loss"], v["valid-loss"], v["test-loss"], v["valid-accuracy"],
        ]) + "\n")
    with open(dst, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(out.getvalue().encode("utf-8"))
    print(f"{dst}: {os.path.getsize(dst)} bytes, {len(classes)} classes")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
