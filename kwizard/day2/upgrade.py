"""`kwizard upgrade`: the control plane, then each worker, one minor release up, the profile updated.

The order and the commands are upstream's: kubernetes/website
content/en/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade.md (control plane: repository,
kubeadm, `kubeadm upgrade plan`, `kubeadm upgrade apply vX.Y.Z`, drain, kubelet/kubectl, restart,
uncordon) and .../kubeadm/upgrading-linux-nodes.md (each worker: repository, kubeadm, `kubeadm upgrade
node`, drain, kubelet/kubectl, restart, uncordon). Every step that changes a host has a probe, so a
resume goes on with the next node and never drains a node that is done (its kubelet reports the target
and it is schedulable). The skew rules are in upgrade_checks (pure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kwizard.day2 import upgrade_checks as checks
from kwizard.day2.profile_edit import ProfileEditError, set_kubernetes_version
from kwizard.kube.versions import KubeVersion
from kwizard.plan import scripts
from kwizard.plan import package_scripts
from kwizard.plan.context import RemoteScript, RunContext
from kwizard.plan.steps import LocalWork, Plan, Step, StepFailed
from kwizard.profile.model import Profile

KUBECTL = scripts.KUBECTL
q = scripts.q
MARKERS = f"{scripts.KWIZARD_DIR}/upgrade"  # what `kubeadm upgrade node` and the kubelet restart left, per version
APT_LIST = "/etc/apt/sources.list.d/kubernetes.list"
DNF_REPO = "/etc/yum.repos.d/kubernetes.repo"


@dataclass
class Target:
    """The version asked for; the exact patch once the control plane's new kubeadm says it (`resolve`)."""

    asked: KubeVersion
    exact: KubeVersion | None = None

    @property
    def minor(self) -> str:
        return self.asked.minor_text

    def version(self, ctx: RunContext) -> str:
        """"v1.34.1" (what the tools print), or a placeholder before the control plane's kubeadm is installed."""
        chosen = self.exact or (self.asked if self.asked.has_patch else None)
        if chosen is None:
            if ctx.dry_run:
                return f"<newest v{self.minor}.x>"
            raise StepFailed(f"the exact v{self.minor} release is not known yet (the control plane's kubeadm)")
        return f"v{chosen.major}.{chosen.minor}.{chosen.patch}"


# --- the scripts (bash); each `probe_*` exits 0 when its job is already done ---


def switch_repository(minor: str) -> str:
    # kubeadm-upgrade.md "Changing the package repository" (change-package-repository.md): the pkgs.k8s.io
    # repository names one minor; edit it to the next one. Written as plan/scripts.py writes it when missing.
    base = f"https://pkgs.k8s.io/core:/stable:/v{minor}"
    sed = f"sed -i -E 's#/core:/stable:/v[0-9]+\\.[0-9]+/#/core:/stable:/v{minor}/#'"
    return f"""\
if command -v apt-get >/dev/null; then
  if [ -f {APT_LIST} ]; then
    {sed} {APT_LIST}
  else
    install -d -m 0755 /etc/apt/keyrings
    curl -fsSL {base}/deb/Release.key | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
    echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] {base}/deb/ /' > {APT_LIST}
  fi
  echo "apt repository pkgs.k8s.io v{minor}: {APT_LIST}"
else
  if [ -f {DNF_REPO} ]; then
    {sed} {DNF_REPO}
    echo "dnf repository pkgs.k8s.io v{minor}: {DNF_REPO}"
  else
{package_scripts._indent(package_scripts._kubernetes_repo(minor))}  fi
fi
"""


def probe_repository(minor: str) -> str:
    return f"grep -qsF '/core:/stable:/v{minor}/' {APT_LIST} {DNF_REPO}\n"


def _pin(names: tuple[str, ...], version: str, apt: bool) -> str:
    """apt NAME='1.34.1-*' (kubeadm-upgrade.md's form), dnf NAME-1.34.1; a bare minor as a glob (newest patch)."""
    bare = version.lstrip("v")
    glob = bare if bare.count(".") == 2 else bare + ".*"
    return " ".join(q(f"{n}={glob}-*" if apt and bare.count(".") == 2 else f"{n}={glob}" if apt else f"{n}-{glob}")
                    for n in names)


def install_packages(names: tuple[str, ...], version: str) -> str:
    # kubeadm-upgrade.md "Upgrade kubeadm" / "Upgrade kubelet and kubectl": apt-mark unhold, apt-get install
    # NAME='1.34.x-*', apt-mark hold; dnf install NAME-'1.34.x-*' --disableexcludes=kubernetes.
    listed = " ".join(names)
    return f"""\
if command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-mark unhold {listed}
  apt-get update
  apt-get install -y {_pin(names, version, apt=True)}
  apt-mark hold {listed}
else
  dnf install -y {_pin(names, version, apt=False)} --disableexcludes=kubernetes
fi
"""


def probe_kubeadm(version: str) -> str:
    pattern = version if version.count(".") == 2 else version + ".*"
    return f'case "$(kubeadm version -o short 2>/dev/null)" in {pattern}) ;; *) exit 1 ;; esac\n'


def _server_version() -> str:
    # kubectl version -o json: the serverVersion block's gitVersion (clientVersion comes first).
    return (f"{KUBECTL} version -o json 2>/dev/null | awk '/\"serverVersion\"/{{s=1}} s && /\"gitVersion\"/"
            "{gsub(/[\",]/, \"\", $2); print $2; exit}'")


def probe_server(version: str) -> str:
    return f'[ "$({_server_version()})" = {q(version)} ]\n'


def _node_fields(node: str) -> str:
    return (f"v=$({KUBECTL} get node {q(node)} -o jsonpath='{{.status.nodeInfo.kubeletVersion}}')\n"
            f"u=$({KUBECTL} get node {q(node)} -o jsonpath='{{.spec.unschedulable}}')\n")


def probe_nodes_done(nodes: tuple[str, ...], version: str) -> str:
    """Every node reports `version` and is schedulable (done: nothing to drain or uncordon)."""
    return "".join(_node_fields(n) + f'[ "$v" = {q(version)} ] && [ "$u" != true ]\n' for n in nodes)


def probe_drained(nodes: tuple[str, ...], version: str) -> str:
    """Every node is cordoned (drained before) or done."""
    return "".join(_node_fields(n) + f'[ "$u" = true ] || [ "$v" = {q(version)} ]\n' for n in nodes)


def drain(nodes: tuple[str, ...], version: str) -> str:
    # kubeadm-upgrade.md / upgrading-linux-nodes.md "Drain the node": kubectl drain <node> --ignore-daemonsets
    lines = []
    for n in nodes:
        lines.append(_node_fields(n) + f"""\
if [ "$v" = {q(version)} ] && [ "$u" != true ]; then
  echo "{n} already runs {version} and is schedulable: already done, not drained again"
elif [ "$u" = true ]; then
  echo "{n} is cordoned already (drained by an earlier run)"
else
  {KUBECTL} drain {q(n)} --ignore-daemonsets --delete-emptydir-data --timeout=300s
fi
""")
    return "".join(lines)


def upgrade_node(version: str) -> str:
    # cmd/kubeadm/app/cmd/upgrade/node.go: `kubeadm upgrade node` rewrites this node's kubelet configuration
    # (and on a control plane its static Pods); upgrading-linux-nodes.md "Call kubeadm upgrade".
    return f"kubeadm upgrade node\ninstall -d -m 0700 {MARKERS}\necho {q(version)} > {MARKERS}/node\n"


def probe_marker(name: str, version: str) -> str:
    return f'[ "$(cat {MARKERS}/{name} 2>/dev/null)" = {q(version)} ]\n'


def kubelet(version: str) -> str:
    # kubeadm-upgrade.md "Upgrade kubelet and kubectl": the packages, then
    # `sudo systemctl daemon-reload && sudo systemctl restart kubelet`.
    return install_packages(("kubelet", "kubectl"), version) + f"""\
systemctl daemon-reload
systemctl restart kubelet
install -d -m 0700 {MARKERS}
echo {q(version)} > {MARKERS}/kubelet
echo "kubelet: $(kubelet --version)"
"""


def probe_kubelet(version: str) -> str:
    return probe_marker("kubelet", version) + f'[ "$(kubelet --version | awk \'{{print $2}}\')" = {q(version)} ]\n'


def uncordon(nodes: tuple[str, ...], version: str, wait_s: int = 180) -> str:
    # kubeadm-upgrade.md "Uncordon the node": kubectl uncordon <node>, once its kubelet reports the new version.
    out = []
    for n in nodes:
        out.append(f"""\
deadline=$(( $(date +%s) + {wait_s} ))
until [ "$({KUBECTL} get node {q(n)} -o jsonpath='{{.status.nodeInfo.kubeletVersion}}')" = {q(version)} ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then echo "{n} does not report {version} after {wait_s}s" >&2; exit 1; fi
  sleep 2
done
{KUBECTL} uncordon {q(n)}
""")
    return "".join(out)


def verify(version: str) -> str:
    return f"""\
{KUBECTL} get nodes
for v in $({KUBECTL} get nodes -o jsonpath='{{.items[*].status.nodeInfo.kubeletVersion}}'); do
  [ "$v" = {q(version)} ] || {{ echo "a node still reports $v, not {version}" >&2; exit 1; }}
done
echo "every node reports {version}; API server: $({_server_version()})"
"""


# --- the plan ---


def _script(make: Callable[[RunContext], str]):
    def script_for(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(make(ctx))

    return script_for


def preflight_work(profile: Profile, target: Target, connect: LocalWork | None) -> LocalWork:
    """Every host answers, then the versions and the skew rules; a refusal changes nothing."""
    cp = profile.control_plane.name

    async def work(ctx: RunContext) -> None:
        if connect is not None:
            try:
                await connect(ctx)  # every host answers (and the cluster lock is ours)
            except StepFailed as exc:
                raise StepFailed("upgrade refused, nothing was changed: "
                                 + str(exc).replace("; nothing was reset", "")) from None
        session = await ctx.session(cp)
        found = {}
        for key, command in (("nodes", f"{KUBECTL} get nodes -o json"), ("version", f"{KUBECTL} version -o json")):
            code, out, err = await session.capture(RemoteScript(command + "\n"), timeout=120)
            if code != 0:
                raise StepFailed(f"upgrade refused, nothing was changed: `{command}` on {cp} failed: "
                                 f"{(err or out).strip()[-300:]}")
            found[key] = out
        try:
            cluster = checks.ClusterVersions(checks.read_server_version(found["version"]),
                                             checks.read_node_versions(found["nodes"]))
        except checks.UpgradeRefused as exc:
            raise StepFailed(f"upgrade refused, nothing was changed: {exc}") from None
        ctx.note(cp, f"API server v{cluster.server}; kubelets: "
                 + ", ".join(f"{n.name} v{n.kubelet}{'' if n.schedulable else ' (cordoned)'}" for n in cluster.nodes))
        problems = checks.skew_problems(target.asked, cluster, [h.name for h in profile.hosts])
        if problems:
            raise StepFailed("upgrade refused, nothing was changed: " + "; ".join(problems))

    return work


def resolve_work(profile: Profile, target: Target) -> LocalWork:
    cp = profile.control_plane.name

    async def work(ctx: RunContext) -> None:
        session = await ctx.session(cp)
        code, out, _ = await session.capture(RemoteScript("kubeadm version -o short\n"), timeout=60)
        found = KubeVersion.find(out.strip()) if code == 0 else None
        if found is None or found.minor_pair != target.asked.minor_pair:
            raise StepFailed(f"kubeadm on {cp} says {out.strip() or 'nothing'}, not v{target.minor}.x")
        if target.asked.has_patch and found.patch != target.asked.patch:
            raise StepFailed(f"kubeadm on {cp} is {out.strip()}, not v{target.asked}")
        target.exact = found
        ctx.note(cp, f"upgrading to v{found} (kubeadm {out.strip()} on {cp})")

    return work


def profile_work(profile_path: Path | None, profile: Profile, target: Target) -> LocalWork:
    async def work(ctx: RunContext) -> None:
        cp = profile.control_plane.name
        if profile_path is None:
            return
        wanted = checks.profile_version(profile.cluster.kubernetes_version, target.exact or target.asked)
        try:
            set_kubernetes_version(profile_path, wanted)
        except ProfileEditError as exc:
            raise StepFailed(f"the cluster is upgraded, but {profile_path} was not changed: {exc}") from None
        ctx.note(cp, f"{profile_path}: cluster.kubernetes_version is now {wanted} (comments kept)")

    return work


def build_upgrade_plan(profile: Profile, to: str, profile_path: Path | None = None, parallel: int = 1,
                       connect: LocalWork | None = None) -> Plan:
    target = Target(checks.parse_target(to))
    cp = profile.control_plane.name
    workers = [h.name for h in profile.hosts if h.name != cp]
    minor = target.minor

    def v(ctx: RunContext) -> str:
        return target.version(ctx)

    def asked(ctx: RunContext) -> str:
        return target.version(ctx) if target.asked.has_patch else f"v{minor}"

    steps = [
        Step(id="preflight", title="Connect, read the versions, check the skew rules", hosts=(cp,),
             after=preflight_work(profile, target, connect), rerun_on_resume=True, timeout=180,
             describe="every host answers; one minor at a time, no downgrade, no kubelet newer than the API server"),
        Step(id="cp-repository", title=f"{cp}: pkgs.k8s.io repository v{minor}", hosts=(cp,),
             script=_script(lambda ctx: switch_repository(minor)), probe=_script(lambda ctx: probe_repository(minor)),
             describe=f"{APT_LIST} or {DNF_REPO} names v{minor}"),
        Step(id="cp-kubeadm", title=f"{cp}: kubeadm v{minor}", hosts=(cp,),
             script=_script(lambda ctx: install_packages(("kubeadm",), asked(ctx))),
             probe=_script(lambda ctx: probe_kubeadm(asked(ctx))), timeout=900,
             describe="apt-mark unhold / apt-get install / apt-mark hold, or dnf --disableexcludes=kubernetes"),
        Step(id="resolve", title="The release to upgrade to", hosts=(cp,), after=resolve_work(profile, target),
             rerun_on_resume=True, timeout=60, describe="the control plane's new kubeadm names the patch release"),
        Step(id="cp-upgrade-plan", title=f"{cp}: kubeadm upgrade plan", hosts=(cp,),
             script=_script(lambda ctx: "kubeadm upgrade plan\n"),  # cmd/kubeadm/app/cmd/upgrade/plan.go
             probe=_script(lambda ctx: probe_server(v(ctx))), timeout=300,
             describe="shows what kubeadm will upgrade; changes nothing"),
        Step(id="cp-upgrade-apply", title=f"{cp}: kubeadm upgrade apply", hosts=(cp,),
             # cmd/kubeadm/app/cmd/upgrade/apply.go: `kubeadm upgrade apply vX.Y.Z -y` (-y: no question)
             script=_script(lambda ctx: f"kubeadm upgrade apply {q(v(ctx))} -y\n"),
             probe=_script(lambda ctx: probe_server(v(ctx))), timeout=1200,
             describe="the control plane's static Pods, etcd, CoreDNS and kube-proxy move to the new release"),
        *_node_steps("cp", cp, (cp,), v, drain_from=cp),
    ]
    for index, batch in enumerate(checks.batches(workers, parallel), start=1):
        steps += _worker_steps(f"w{index}", batch, v, cp, minor)
    steps += [
        Step(id="verify", title="Every node on the new release", hosts=(cp,), script=_script(lambda ctx: verify(v(ctx))),
             describe="kubectl get nodes: every kubelet reports the target", timeout=120, rerun_on_resume=True),
        Step(id="profile", title="The profile's kubernetes_version", hosts=(cp,),
             after=profile_work(profile_path, profile, target), timeout=60,
             describe="cluster.kubernetes_version set (comments kept) so a later apply does not downgrade"),
    ]
    return Plan(name="upgrade", steps=steps, hosts=tuple(h.name for h in profile.hosts),
                notes=[f"upgrade to {to}, workers {parallel} at a time"])


def _node_steps(prefix: str, label: str, nodes: tuple[str, ...], v, drain_from: str) -> list[Step]:
    """Drain (from the control plane), kubelet/kubectl and restart, uncordon: the part every node shares."""
    return [
        Step(id=f"{prefix}-drain", title=f"Drain {', '.join(nodes)}", hosts=(drain_from,),
             script=_script(lambda ctx: drain(nodes, v(ctx))), probe=_script(lambda ctx: probe_drained(nodes, v(ctx))),
             timeout=600, describe="kubectl drain --ignore-daemonsets (skipped for a node that is done)"),
        Step(id=f"{prefix}-kubelet", title=f"{label}: kubelet and kubectl, restart", hosts=nodes,
             script=_script(lambda ctx: kubelet(v(ctx))), probe=_script(lambda ctx: probe_kubelet(v(ctx))), timeout=900,
             describe="the packages, systemctl daemon-reload && systemctl restart kubelet"),
        Step(id=f"{prefix}-uncordon", title=f"Uncordon {', '.join(nodes)}", hosts=(drain_from,),
             script=_script(lambda ctx: uncordon(nodes, v(ctx))),
             probe=_script(lambda ctx: probe_nodes_done(nodes, v(ctx))), timeout=300,
             describe="kubectl uncordon once the kubelet reports the new release"),
    ]


def _worker_steps(prefix: str, batch: tuple[str, ...], v, cp: str, minor: str) -> list[Step]:
    label = ", ".join(batch)
    drain_step, kubelet_step, uncordon_step = _node_steps(prefix, label, batch, v, drain_from=cp)
    return [
        drain_step,
        Step(id=f"{prefix}-repository", title=f"{label}: pkgs.k8s.io repository v{minor}", hosts=batch,
             script=_script(lambda ctx: switch_repository(minor)), probe=_script(lambda ctx: probe_repository(minor)),
             describe=f"{APT_LIST} or {DNF_REPO} names v{minor}"),
        Step(id=f"{prefix}-kubeadm", title=f"{label}: kubeadm", hosts=batch,
             script=_script(lambda ctx: install_packages(("kubeadm",), v(ctx))),
             probe=_script(lambda ctx: probe_kubeadm(v(ctx))), timeout=900, describe="the same release as the control plane"),
        Step(id=f"{prefix}-upgrade-node", title=f"{label}: kubeadm upgrade node", hosts=batch,
             script=_script(lambda ctx: upgrade_node(v(ctx))), probe=_script(lambda ctx: probe_marker("node", v(ctx))),
             timeout=600, describe="upgrading-linux-nodes.md: the node's kubelet configuration"),
        kubelet_step,
        uncordon_step,
    ]
