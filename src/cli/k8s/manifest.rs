//! The Kubernetes objects: a `ConfigMap` holding the project, an Indexed Job
//! of shards (load tests and sweeps), and a Deployment and a Service per
//! emulated service. Every pod runs as a non-root user on a read-only root
//! file system with no privileges, and asks for and is limited to the same
//! CPU and memory (Kubernetes' Guaranteed class: a load generator or an
//! emulated service measured while it is being throttled or evicted would
//! report the cluster's contention as the system's latency).

use super::yaml::{Yaml, map, s};

/// The port every emulated service listens on, in its pod and its Service.
pub const PORT: i64 = 8080;

/// Where a pod finds the project file.
pub const PROJECT_DIR: &str = "/project";
/// The project's key in its `ConfigMap`, and its file name in the pod.
pub const PROJECT_KEY: &str = "project.ron";

/// The user (and group) the pods run as: the distroless images' `nonroot`.
const USER: i64 = 65_532;

/// What every object of one run shares.
pub struct Common<'a> {
    /// The run's name: the Job's, and the prefix of every object's.
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub image: &'a str,
    pub cpu: &'a str,
    pub memory: &'a str,
    /// `load`, `sweep` or `emulate`.
    pub component: &'a str,
}

impl Common<'_> {
    fn labels(&self, extra: Option<(&str, &str)>) -> Yaml {
        let mut labels = vec![
            ("app.kubernetes.io/name".to_owned(), s("archbench")),
            ("app.kubernetes.io/instance".to_owned(), s(self.name)),
            ("app.kubernetes.io/component".to_owned(), s(self.component)),
        ];
        if let Some((key, value)) = extra {
            labels.push((key.to_owned(), s(value)));
        }
        Yaml::Map(labels)
    }

    fn metadata(&self, name: &str, extra: Option<(&str, &str)>) -> Yaml {
        let mut entries = vec![("name".to_owned(), s(name))];
        if let Some(namespace) = self.namespace {
            entries.push(("namespace".to_owned(), s(namespace)));
        }
        entries.push(("labels".to_owned(), self.labels(extra)));
        Yaml::Map(entries)
    }

    /// The project file as a `ConfigMap`.
    pub fn config_map(&self, project_text: &str) -> Yaml {
        map([
            ("apiVersion", s("v1")),
            ("kind", s("ConfigMap")),
            ("metadata", self.metadata(&self.config_map_name(), None)),
            ("data", map([(PROJECT_KEY, s(project_text))])),
        ])
    }

    pub fn config_map_name(&self) -> String {
        format!("{}-project", truncate(self.name, 63 - "-project".len()))
    }

    /// A pod's spec running `archbench ARGS...`, with the project mounted
    /// when there is one.
    fn pod_spec(
        &self,
        args: &[String],
        with_project: bool,
        restart: &str,
        probe: bool,
        env: &[(&str, &str)],
    ) -> Yaml {
        let resources = map([("cpu", s(self.cpu)), ("memory", s(self.memory))]);
        let mut container = vec![
            ("name".to_owned(), s("archbench")),
            ("image".to_owned(), s(self.image)),
            ("imagePullPolicy".to_owned(), s("IfNotPresent")),
            (
                "args".to_owned(),
                Yaml::List(args.iter().map(|a| s(a.as_str())).collect()),
            ),
            (
                "resources".to_owned(),
                map([("requests", resources.clone()), ("limits", resources)]),
            ),
            (
                "securityContext".to_owned(),
                map([
                    ("allowPrivilegeEscalation", false.into()),
                    ("readOnlyRootFilesystem", true.into()),
                    ("runAsNonRoot", true.into()),
                    ("capabilities", map([("drop", vec![s("ALL")].into())])),
                ]),
            ),
        ];
        if !env.is_empty() {
            // Each from the pod's own fields, for `$(NAME)` in the arguments.
            let env = env
                .iter()
                .map(|(name, path)| {
                    map([
                        ("name", s(*name)),
                        (
                            "valueFrom",
                            map([("fieldRef", map([("fieldPath", s(*path))]))]),
                        ),
                    ])
                })
                .collect::<Vec<_>>();
            container.insert(3, ("env".to_owned(), env.into()));
        }
        if probe {
            container.push((
                "ports".to_owned(),
                vec![map([("name", s("http")), ("containerPort", PORT.into())])].into(),
            ));
            container.push((
                "readinessProbe".to_owned(),
                map([
                    (
                        "httpGet",
                        map([
                            ("path", s(crate::loadgen::emulate::STATS_PATH)),
                            ("port", s("http")),
                        ]),
                    ),
                    ("periodSeconds", 5.into()),
                ]),
            ));
        }
        if with_project {
            container.push((
                "volumeMounts".to_owned(),
                vec![map([
                    ("name", s("project")),
                    ("mountPath", s(PROJECT_DIR)),
                    ("readOnly", true.into()),
                ])]
                .into(),
            ));
        }
        let mut spec = vec![
            ("restartPolicy".to_owned(), s(restart)),
            ("automountServiceAccountToken".to_owned(), false.into()),
            ("enableServiceLinks".to_owned(), false.into()),
            (
                "securityContext".to_owned(),
                map([
                    ("runAsNonRoot", true.into()),
                    ("runAsUser", USER.into()),
                    ("runAsGroup", USER.into()),
                    ("seccompProfile", map([("type", s("RuntimeDefault"))])),
                ]),
            ),
            ("containers".to_owned(), vec![Yaml::Map(container)].into()),
        ];
        if with_project {
            spec.push((
                "volumes".to_owned(),
                vec![map([
                    ("name", s("project")),
                    (
                        "configMap",
                        map([("name", s(self.config_map_name().as_str()))]),
                    ),
                ])]
                .into(),
            ));
        }
        Yaml::Map(spec)
    }

    /// An Indexed Job of `shards` pods, each running `args` (in which
    /// `$(JOB_COMPLETION_INDEX)` is the pod's index, its shard).
    pub fn indexed_job(&self, args: &[String], shards: u32, with_project: bool) -> Yaml {
        map([
            ("apiVersion", s("batch/v1")),
            ("kind", s("Job")),
            ("metadata", self.metadata(self.name, None)),
            (
                "spec",
                map([
                    ("completionMode", s("Indexed")),
                    ("completions", i64::from(shards).into()),
                    ("parallelism", i64::from(shards).into()),
                    // A shard run again would start after the others: the
                    // merge names the missing one instead.
                    ("backoffLimit", 0.into()),
                    // Logs (the results) are kept for a day.
                    ("ttlSecondsAfterFinished", 86_400.into()),
                    (
                        "template",
                        map([
                            ("metadata", map([("labels", self.labels(None))])),
                            (
                                "spec",
                                self.pod_spec(
                                args,
                                with_project,
                                "Never",
                                false,
                                // Kubernetes sets it in an Indexed Job's pods
                                // too; said here so that it is defined for the
                                // arguments whatever the version.
                                &[(
                                    "JOB_COMPLETION_INDEX",
                                    "metadata.annotations['batch.kubernetes.io/job-completion-index']",
                                )],
                            ),
                            ),
                        ]),
                    ),
                ]),
            ),
        ])
    }

    /// A Deployment of `replicas` pods of emulated service `service`, each
    /// running `args`, and the Service (named `dns`) that balances between
    /// them.
    pub fn emulated_service(&self, dns: &str, replicas: u32, args: &[String]) -> [Yaml; 2] {
        let selector = ("archbench.dev/service", dns);
        let deployment = map([
            ("apiVersion", s("apps/v1")),
            ("kind", s("Deployment")),
            ("metadata", self.metadata(dns, Some(selector))),
            (
                "spec",
                map([
                    ("replicas", i64::from(replicas).into()),
                    (
                        "selector",
                        map([(
                            "matchLabels",
                            map([
                                ("app.kubernetes.io/instance", s(self.name)),
                                (selector.0, s(dns)),
                            ]),
                        )]),
                    ),
                    (
                        "template",
                        map([
                            ("metadata", map([("labels", self.labels(Some(selector)))])),
                            (
                                "spec",
                                self.pod_spec(
                                    args,
                                    true,
                                    "Always",
                                    true,
                                    &[("POD_NAME", "metadata.name")],
                                ),
                            ),
                        ]),
                    ),
                ]),
            ),
        ]);
        let service = map([
            ("apiVersion", s("v1")),
            ("kind", s("Service")),
            ("metadata", self.metadata(dns, Some(selector))),
            (
                "spec",
                map([
                    (
                        "selector",
                        map([
                            ("app.kubernetes.io/instance", s(self.name)),
                            (selector.0, s(dns)),
                        ]),
                    ),
                    (
                        "ports",
                        vec![map([
                            ("name", s("http")),
                            ("port", PORT.into()),
                            ("targetPort", s("http")),
                        ])]
                        .into(),
                    ),
                ]),
            ),
        ]);
        [deployment, service]
    }
}

/// `text` cut to at most `max` bytes, at a character boundary, without a
/// trailing `-`.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].trim_end_matches('-')
}

/// A DNS label (RFC 1123, as Kubernetes names objects): lower-case letters,
/// digits and `-`, starting with a letter, at most `max` characters;
/// anything else becomes `-`. `None` when nothing of `text` is left.
pub fn dns_label(text: &str, max: usize) -> Option<String> {
    let mut label = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            label.push(c);
        } else if !label.is_empty() && !label.ends_with('-') {
            label.push('-');
        }
    }
    let label = label.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    let label = truncate(label, max);
    (!label.is_empty()).then(|| label.to_owned())
}
