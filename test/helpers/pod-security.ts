/**
 * The Kubernetes Pod Security Standards, "restricted" level (which includes "baseline"), as
 * checks on a pod spec: what the PodSecurity admission controller refuses in a namespace labelled
 * `pod-security.kubernetes.io/enforce: restricted` (Kubernetes 1.25 and later). Plus, with
 * `numericUser`, the rule the kubelet adds: runAsNonRoot needs a numeric user to verify, so the
 * pod names its UID and GID. Returns one line per violation, naming the field, what is required
 * and what was found; none = admitted.
 */

type Obj = Record<string, any>;

/** Volume types the restricted level allows. */
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
/** Sysctls the baseline level allows. */
const SAFE_SYSCTLS = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];
const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
const SECCOMP_ALLOWED = ['RuntimeDefault', 'Localhost'];

export interface PodSecurityOptions {
  /** Also require numeric runAsUser and runAsGroup (pod or every container) and fsGroup on the pod. */
  numericUser?: boolean;
}

/** Violations of the restricted Pod Security level by `pod` (a PodSpec), prefixed with `where`. */
export function restrictedViolations(pod: Obj, where = 'spec', options: PodSecurityOptions = {}): string[] {
  const out: string[] = [];
  const bad = (field: string, expected: string, found: unknown) => out.push(`${where}.${field}: expected ${expected}, found ${JSON.stringify(found)}`);
  const podContext: Obj = pod.securityContext ?? {};
  const containers: { path: string; c: Obj }[] = (['initContainers', 'containers', 'ephemeralContainers'] as const).flatMap((list) =>
    ((pod[list] ?? []) as Obj[]).map((c, i) => ({ path: `${list}[${i}]`, c })),
  );
  if (containers.length === 0) bad('containers', 'at least one container', pod.containers);

  // Baseline: host namespaces, ports and paths, privileged mode, sysctls.
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[field] !== undefined && pod[field] !== false) bad(field, 'unset or false', pod[field]);
  if (podContext.windowsOptions?.hostProcess === true) bad('securityContext.windowsOptions.hostProcess', 'unset or false', true);
  for (const sysctl of (podContext.sysctls ?? []) as Obj[]) if (!SAFE_SYSCTLS.includes(sysctl.name)) bad('securityContext.sysctls', `only ${SAFE_SYSCTLS.join(', ')}`, sysctl.name);
  checkSeLinux(podContext.seLinuxOptions, 'securityContext.seLinuxOptions', bad);
  checkAppArmor(podContext.appArmorProfile, 'securityContext.appArmorProfile', bad);

  // Restricted: volume types.
  for (const [i, volume] of ((pod.volumes ?? []) as Obj[]).entries()) {
    const types = Object.keys(volume).filter((key) => key !== 'name');
    for (const type of types) if (!RESTRICTED_VOLUMES.includes(type)) bad(`volumes[${i}]`, `one of ${RESTRICTED_VOLUMES.join(', ')}`, type);
  }

  // Restricted: seccomp RuntimeDefault or Localhost, on the pod or on every container.
  const podSeccomp = podContext.seccompProfile?.type;
  if (podSeccomp !== undefined && !SECCOMP_ALLOWED.includes(podSeccomp)) bad('securityContext.seccompProfile.type', SECCOMP_ALLOWED.join(' or '), podSeccomp);

  for (const { path, c } of containers) {
    const sc: Obj = c.securityContext ?? {};
    if (sc.privileged === true) bad(`${path}.securityContext.privileged`, 'unset or false', true);
    if (sc.windowsOptions?.hostProcess === true) bad(`${path}.securityContext.windowsOptions.hostProcess`, 'unset or false', true);
    if (sc.procMount !== undefined && sc.procMount !== 'Default') bad(`${path}.securityContext.procMount`, 'Default', sc.procMount);
    for (const [i, port] of ((c.ports ?? []) as Obj[]).entries()) if (port.hostPort !== undefined && port.hostPort !== 0) bad(`${path}.ports[${i}].hostPort`, 'unset or 0', port.hostPort);
    checkSeLinux(sc.seLinuxOptions, `${path}.securityContext.seLinuxOptions`, bad);
    checkAppArmor(sc.appArmorProfile, `${path}.securityContext.appArmorProfile`, bad);
    if (sc.allowPrivilegeEscalation !== false) bad(`${path}.securityContext.allowPrivilegeEscalation`, 'false', sc.allowPrivilegeEscalation);
    const drop: string[] = sc.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) bad(`${path}.securityContext.capabilities.drop`, '["ALL"]', drop);
    const add: string[] = sc.capabilities?.add ?? [];
    const extra = add.filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (extra.length > 0) bad(`${path}.securityContext.capabilities.add`, 'nothing but NET_BIND_SERVICE', extra);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (!SECCOMP_ALLOWED.includes(seccomp)) bad(`${path}.securityContext.seccompProfile.type (or the pod's)`, SECCOMP_ALLOWED.join(' or '), seccomp);
    const nonRoot = sc.runAsNonRoot ?? podContext.runAsNonRoot;
    if (nonRoot !== true) bad(`${path}.securityContext.runAsNonRoot (or the pod's)`, 'true', nonRoot);
    const user = sc.runAsUser ?? podContext.runAsUser;
    if (user === 0) bad(`${path}.securityContext.runAsUser (or the pod's)`, 'a non-zero UID', user);
    if (options.numericUser) {
      for (const field of ['runAsUser', 'runAsGroup']) {
        const value = sc[field] ?? podContext[field];
        if (!Number.isInteger(value) || value <= 0) bad(`${path}.securityContext.${field} (or the pod's)`, 'a numeric ID > 0', value);
      }
    }
  }
  if (options.numericUser && (!Number.isInteger(podContext.fsGroup) || podContext.fsGroup <= 0)) bad('securityContext.fsGroup', 'a numeric GID > 0', podContext.fsGroup);
  return out;
}

function checkSeLinux(options: Obj | undefined, field: string, bad: (field: string, expected: string, found: unknown) => void): void {
  if (!options) return;
  if (options.type !== undefined && !SELINUX_TYPES.includes(options.type)) bad(`${field}.type`, `one of ${SELINUX_TYPES.filter(Boolean).join(', ')}`, options.type);
  for (const key of ['user', 'role']) if (options[key] !== undefined && options[key] !== '') bad(`${field}.${key}`, 'unset', options[key]);
}

function checkAppArmor(profile: Obj | undefined, field: string, bad: (field: string, expected: string, found: unknown) => void): void {
  if (profile?.type !== undefined && !['RuntimeDefault', 'Localhost'].includes(profile.type)) bad(`${field}.type`, 'RuntimeDefault or Localhost', profile.type);
}

/** The pod spec of a workload manifest (Pod, Deployment, Job, ...), or undefined for other kinds. */
export function podSpecOf(manifest: Obj): Obj | undefined {
  if (manifest.kind === 'Pod') return manifest.spec;
  if (manifest.kind === 'CronJob') return manifest.spec?.jobTemplate?.spec?.template?.spec;
  return manifest.spec?.template?.spec;
}
