"""What the Kubernetes schema cannot check in `archbench k8s` manifests.

Reads every *.yaml in the folder given and checks, for each pod template:
non-root, no privilege escalation, a read-only root file system, all
capabilities dropped, CPU and memory requests equal to their limits; for
each ConfigMap, that its project is the example file byte for byte; for
each Indexed Job, that it has as many completions as parallelism and each
pod runs its shard of that count; for each emulated service, that its
Service selects its Deployment's pods on the port they listen on.
"""

import pathlib
import sys

import yaml

folder = pathlib.Path(sys.argv[1])
checked = 0


def fail(path, message):
    sys.exit(f"{path.name}: {message}")


for path in sorted(folder.glob("*.yaml")):
    if path.name == "broken.yaml":
        continue
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    for cm in by_kind.get("ConfigMap", []):
        project = path.stem.split("-", 1)[1]
        text = pathlib.Path("projects", project + ".ron").read_text()
        if cm["data"]["project.ron"] != text:
            fail(path, f"the ConfigMap's project is not projects/{project}.ron")
    templates = []
    for job in by_kind.get("Job", []):
        spec = job["spec"]
        if spec["completionMode"] != "Indexed":
            fail(path, "not an Indexed Job")
        n = spec["completions"]
        if spec["parallelism"] != n:
            fail(path, "completions and parallelism differ")
        args = spec["template"]["spec"]["containers"][0]["args"]
        if f"$(JOB_COMPLETION_INDEX)/{n}" not in args:
            fail(path, f"the pods do not run shard INDEX/{n}: {args}")
        if args[args.index("--format") + 1] != "json":
            fail(path, "the pods do not print JSON")
        templates.append(spec["template"])
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    for deployment in by_kind.get("Deployment", []):
        name = deployment["metadata"]["name"]
        template = deployment["spec"]["template"]
        labels = template["metadata"]["labels"]
        service = services.get(name) or fail(path, f"no Service for {name}")
        if any(labels.get(k) != v for k, v in service["spec"]["selector"].items()):
            fail(path, f"the Service {name} does not select its pods")
        args = template["spec"]["containers"][0]["args"]
        if args[args.index("--listen") + 1] != "0.0.0.0:8080":
            fail(path, f"{name} does not listen on 8080")
        for peer in [args[i + 1] for i, a in enumerate(args) if a == "--peer"]:
            host = peer.split("=", 1)[1].removeprefix("http://").split(":")[0]
            if host not in services:
                fail(path, f"{name} calls {host}, which no Service is")
        templates.append(template)
    for template in templates:
        pod = template["spec"]
        if not pod["securityContext"]["runAsNonRoot"]:
            fail(path, "a pod may run as root")
        for c in pod["containers"]:
            sc = c["securityContext"]
            if not (sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"]):
                fail(path, "a container can write its root or escalate")
            if sc["capabilities"]["drop"] != ["ALL"]:
                fail(path, "a container keeps capabilities")
            r = c["resources"]
            if r["requests"] != r["limits"] or set(r["limits"]) != {"cpu", "memory"}:
                fail(path, "a container's requests are not its limits")
        checked += 1

if checked == 0:
    sys.exit("no pod template checked")
print(f"k8s_check: {checked} pod templates checked")
