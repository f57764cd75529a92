#!/usr/bin/python3
"""Strict check of docs/deploy/k8s/grade-job.yaml against the batch/v1 Job API.

Usage: k8s_job_check.py MANIFEST.yaml

Prints "ok" or one line per problem and exits 1. Every key must be a field
of the object it is in (as `kubectl apply --validate=strict` would refuse a
misspelt one), every value of its type, and the rules the API server applies
to an Indexed Job must hold. The fields are those of the Kubernetes API
reference (batch/v1 Job, core/v1 PodSpec and Container) that a grading Job
may use; capability names come from this machine's linux/capability.h.
"""
import re
import sys

import yaml

STR, INT, BOOL, QTY = "string", "integer", "boolean", "quantity"


def obj(**fields):
    return ("object", fields)


def lst(item):
    return ("list", item)


def smap():
    return ("map", STR)


LABELS = smap()
ENV = obj(name=STR, value=STR)
MOUNT = obj(name=STR, mountPath=STR, readOnly=BOOL, subPath=STR)
RESOURCES = obj(requests=("map", QTY), limits=("map", QTY))
PROFILE = obj(type=STR, localhostProfile=STR)
SECURITY = obj(runAsUser=INT, runAsGroup=INT, runAsNonRoot=BOOL, privileged=BOOL,
               allowPrivilegeEscalation=BOOL, readOnlyRootFilesystem=BOOL,
               capabilities=obj(add=lst(STR), drop=lst(STR)), seccompProfile=PROFILE,
               appArmorProfile=PROFILE, procMount=STR)
CONTAINER = obj(name=STR, image=STR, imagePullPolicy=STR, command=lst(STR), args=lst(STR),
                workingDir=STR, env=lst(ENV), resources=RESOURCES, securityContext=SECURITY,
                volumeMounts=lst(MOUNT))
VOLUME = obj(name=STR, persistentVolumeClaim=obj(claimName=STR, readOnly=BOOL),
             emptyDir=obj(medium=STR, sizeLimit=QTY))
POD = obj(restartPolicy=STR, containers=lst(CONTAINER), initContainers=lst(CONTAINER),
          volumes=lst(VOLUME), nodeSelector=smap(), serviceAccountName=STR,
          terminationGracePeriodSeconds=INT, hostUsers=BOOL,
          securityContext=obj(runAsUser=INT, runAsGroup=INT, fsGroup=INT,
                              seccompProfile=PROFILE, appArmorProfile=PROFILE))
META = obj(name=STR, namespace=STR, labels=LABELS, annotations=smap())
JOB = obj(apiVersion=STR, kind=STR, metadata=META,
          spec=obj(completions=INT, parallelism=INT, completionMode=STR, backoffLimit=INT,
                   backoffLimitPerIndex=INT, maxFailedIndexes=INT, activeDeadlineSeconds=INT,
                   ttlSecondsAfterFinished=INT, suspend=BOOL, manualSelector=BOOL,
                   podReplacementPolicy=STR,
                   template=obj(metadata=obj(labels=LABELS, annotations=smap()), spec=POD)))

QTY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def walk(v, schema, where, bad):
    """Type-check v against schema, naming each problem by its path."""
    if isinstance(schema, tuple):
        kind, inner = schema
        if kind == "object":
            if not isinstance(v, dict):
                bad.append(f"{where}: an object expected")
                return
            for k, x in v.items():
                if k not in inner:
                    bad.append(f"{where}.{k}: unknown field")
                else:
                    walk(x, inner[k], f"{where}.{k}", bad)
        elif kind == "list":
            if not isinstance(v, list):
                bad.append(f"{where}: a list expected")
                return
            for i, x in enumerate(v):
                walk(x, inner, f"{where}[{i}]", bad)
        else:
            if not isinstance(v, dict):
                bad.append(f"{where}: a map expected")
                return
            for k, x in v.items():
                walk(x, inner, f"{where}.{k}", bad)
        return
    ok = {STR: isinstance(v, str), INT: isinstance(v, int) and not isinstance(v, bool),
          BOOL: isinstance(v, bool),
          QTY: isinstance(v, (int, str)) and not isinstance(v, bool) and QTY_RE.match(str(v))}
    if not ok[schema]:
        bad.append(f"{where}: {schema} expected, got {v!r}")


def quantity(q):
    """A resource quantity as a number (cpu in cores, memory in bytes)."""
    m = re.match(r"^([0-9.]+)([A-Za-z]*)$", str(q))
    mult = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10,
            "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    return float(m.group(1)) * mult.get(m.group(2), float("nan")) if m else float("nan")


def capabilities():
    names = set()
    with open("/usr/include/linux/capability.h") as f:
        for line in f:
            m = re.match(r"#define CAP_([A-Z_]+)\s+[0-9]+\s*$", line)
            if m:
                names.add(m.group(1))
    return names


def check_pod(job, name, bad):
    """The rules the API server applies to a Job's pod template."""
    pod = job.get("spec", {}).get("template", {}).get("spec", {})
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        bad.append(f"{name}: a Job's restartPolicy is Never or OnFailure")
    containers = pod.get("containers") or []
    if not containers:
        bad.append(f"{name}: no container")
    volumes = {v.get("name") for v in pod.get("volumes") or []}
    caps = capabilities()
    for c in containers:
        cn = f"{name}: container {c.get('name')!r}"
        if not DNS_LABEL.match(str(c.get("name", ""))):
            bad.append(f"{cn}: a name is a DNS label")
        if not c.get("image"):
            bad.append(f"{cn}: no image")
        for e in c.get("env") or []:
            if "name" not in e or not ENV_NAME.match(str(e["name"])):
                bad.append(f"{cn}: env name {e.get('name')!r}")
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in volumes:
                bad.append(f"{cn}: volumeMount {m.get('name')!r} names no volume")
            if not str(m.get("mountPath", "")).startswith("/"):
                bad.append(f"{cn}: mountPath is not absolute")
        res = c.get("resources") or {}
        for r, lim in (res.get("limits") or {}).items():
            req = (res.get("requests") or {}).get(r)
            if req is not None and quantity(req) > quantity(lim):
                bad.append(f"{cn}: {r} request above its limit")
        sc = c.get("securityContext") or {}
        for cap in (sc.get("capabilities") or {}).get("add") or []:
            if cap not in caps:
                bad.append(f"{cn}: no capability {cap!r} (named without CAP_)")
        for p in ("seccompProfile", "appArmorProfile"):
            t = (sc.get(p) or {}).get("type")
            if p in sc and t not in ("RuntimeDefault", "Unconfined", "Localhost"):
                bad.append(f"{cn}: {p}.type {t!r}")


def check_job(job, bad):
    name = str((job.get("metadata") or {}).get("name"))
    if job.get("apiVersion") != "batch/v1" or job.get("kind") != "Job":
        bad.append(f"{name}: not a batch/v1 Job")
    if not DNS_LABEL.match(name) or len(name) > 63:
        bad.append(f"{name}: a Job's name is a DNS label of at most 63 characters")
    spec = job.get("spec") or {}
    if "selector" in spec:
        bad.append(f"{name}: the selector is the Job controller's")
    completions, parallelism = spec.get("completions"), spec.get("parallelism")
    if spec.get("completionMode", "NonIndexed") not in ("NonIndexed", "Indexed"):
        bad.append(f"{name}: completionMode {spec.get('completionMode')!r}")
    if spec.get("completionMode") == "Indexed":
        if not isinstance(completions, int) or completions < 1:
            bad.append(f"{name}: an Indexed Job needs completions")
        elif completions > 100000:
            bad.append(f"{name}: an Indexed Job has at most 100000 completions")
        # its pods' hostnames are NAME-INDEX, a DNS label
        elif len(f"{name}-{completions - 1}") > 63:
            bad.append(f"{name}: NAME-INDEX is longer than a DNS label")
    elif "backoffLimitPerIndex" in spec or "maxFailedIndexes" in spec:
        bad.append(f"{name}: backoffLimitPerIndex needs completionMode Indexed")
    if isinstance(parallelism, int) and isinstance(completions, int) and parallelism > completions:
        bad.append(f"{name}: parallelism above completions")
    pod = (spec.get("template") or {}).get("spec") or {}
    if "backoffLimitPerIndex" in spec and pod.get("restartPolicy") != "Never":
        bad.append(f"{name}: backoffLimitPerIndex needs restartPolicy Never")
    if "maxFailedIndexes" in spec and "backoffLimitPerIndex" not in spec:
        bad.append(f"{name}: maxFailedIndexes needs backoffLimitPerIndex")
    check_pod(job, name, bad)


def main():
    bad = []
    with open(sys.argv[1]) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for i, d in enumerate(docs):
        typed = len(bad)
        walk(d, JOB, f"document {i + 1}", bad)
        if len(bad) == typed:  # the API's rules, on a document of the right shape
            check_job(d, bad)
    print("ok" if not bad else "\n".join(bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
