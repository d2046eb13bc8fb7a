#!/usr/bin/env python3
"""Checks deploy/k8s/sweep-job.yaml and merge-job.yaml as far as can be done without a
cluster, and prints the commands their containers run, one per line, as JSON lists:

    sweep <the sweep Job's command and args>
    merge <the merge Job's command and args>
    out <the sweep folder inside the pods>

Checks: both files parse; the sweep Job is Indexed with completions equal to N of its
`--shard k8s/N`; its --out folder lies on a volume mount of a ReadWriteMany claim; the merge
Job merges that folder from the same claim.
"""
import json
import sys

import yaml


def fail(msg):
    print(f"k8s manifest: {msg}", file=sys.stderr)
    sys.exit(1)


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def container_of(job):
    cs = job["spec"]["template"]["spec"]["containers"]
    if len(cs) != 1:
        fail(f"job {job['metadata']['name']} should have one container")
    return cs[0]


def mount_claim(job, path):
    spec = job["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for m in container_of(job).get("volumeMounts", []):
        if path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/"):
            claim = volumes[m["name"]].get("persistentVolumeClaim", {}).get("claimName")
            if claim:
                return claim
    fail(f"{path} is not on a volume from a PersistentVolumeClaim in {job['metadata']['name']}")


def main(sweep_path, merge_path):
    docs = load(sweep_path)
    claims = {d["metadata"]["name"]: d for d in docs if d["kind"] == "PersistentVolumeClaim"}
    jobs = [d for d in docs if d["kind"] == "Job"]
    if len(jobs) != 1:
        fail(f"{sweep_path} should hold one Job")
    job = jobs[0]
    spec = job["spec"]
    if spec.get("completionMode") != "Indexed":
        fail("the sweep Job must have completionMode: Indexed (JOB_COMPLETION_INDEX)")
    c = container_of(job)
    cmd = c["command"] + c["args"]
    if cmd[:2] != ["simulacra", "sweep"]:
        fail(f"the sweep Job runs {cmd[:2]}, not simulacra sweep")
    shard = cmd[cmd.index("--shard") + 1]
    if shard != f"k8s/{spec['completions']}":
        fail(f"--shard {shard} does not match completions: {spec['completions']}")
    out = cmd[cmd.index("--out") + 1]
    claim = mount_claim(job, out)
    if "ReadWriteMany" not in claims.get(claim, {}).get("spec", {}).get("accessModes", []):
        fail(f"the claim {claim} must be defined here with accessModes ReadWriteMany")
    merges = [d for d in load(merge_path) if d["kind"] == "Job"]
    if len(merges) != 1:
        fail(f"{merge_path} should hold one Job")
    m = container_of(merges[0])
    mcmd = m["command"] + m["args"]
    if mcmd != ["simulacra", "sweep", "merge", out]:
        fail(f"the merge Job runs {mcmd}, not simulacra sweep merge {out}")
    if mount_claim(merges[0], out) != claim:
        fail("the merge Job does not mount the sweep's claim")
    print("sweep " + json.dumps(cmd))
    print("merge " + json.dumps(mcmd))
    print("out " + json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
