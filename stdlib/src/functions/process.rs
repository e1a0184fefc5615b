//! Process, host and Kubernetes metadata. A upid is the string
//! `asid:pid:start_ticks`. Lookups go through `Env::metadata` when the query
//! runs (so they are not pure); on a bare host every Kubernetes lookup is ''.

use std::collections::HashMap;
use std::sync::Arc;

use polars::prelude::*;

use super::json::Json;
use super::util::{arg, expect_type, rowwise, time_dtype, In, STRING, UPID};
use crate::registry::{
    Env, Example, FnError, FunctionDef, FunctionKind, MetadataProvider, Operand, Param,
    ScalarLowering, TypedExpr,
};
use crate::types::{DataType as PxType, SemanticType};

/// The `n`th `:`-separated field of a upid as an integer, 0 when absent.
fn upid_field(upid: &str, n: usize) -> i64 {
    upid.split(':')
        .nth(n)
        .and_then(|f| f.trim().parse().ok())
        .unwrap_or(0)
}

fn upid_arg(args: &[Operand], func: &str) -> Result<Expr, FnError> {
    let op = arg(args, 0, func, "upid")?;
    expect_type(op, UPID, func, "upid")?;
    Ok(op.expr())
}

fn upid_to_pid(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let upid = upid_arg(args, "upid_to_pid")?;
    Ok(TypedExpr::new(
        rowwise(vec![upid], &[In::Str], |r| upid_field(r.str(0), 1)),
        PxType::Int64,
    ))
}

fn upid_to_asid(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let upid = upid_arg(args, "upid_to_asid")?;
    Ok(TypedExpr::new(
        rowwise(vec![upid], &[In::Str], |r| upid_field(r.str(0), 0)),
        PxType::Int64,
    ))
}

fn upid_to_string(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let upid = upid_arg(args, "upid_to_string")?;
    Ok(TypedExpr::new(upid.cast(DataType::String), PxType::String))
}

/// A string → string lookup through the metadata provider, asked once per
/// distinct key in each batch.
fn lookup(
    input: Expr,
    metadata: Arc<dyn MetadataProvider>,
    f: fn(&dyn MetadataProvider, &str) -> String,
) -> Expr {
    rowwise_cached(input, move |key| f(metadata.as_ref(), key))
}

fn rowwise_cached(input: Expr, f: impl Fn(&str) -> String + Send + Sync + 'static) -> Expr {
    let func = move |c: Column| -> PolarsResult<Column> {
        let name = c.name().clone();
        let strings = c.cast(&DataType::String)?;
        let ca = strings.str()?;
        let mut cache: HashMap<&str, String> = HashMap::new();
        let values: Vec<String> = ca
            .iter()
            .map(|key| {
                let key = key.unwrap_or("");
                cache.entry(key).or_insert_with(|| f(key)).clone()
            })
            .collect();
        Ok(Series::new(name, values).into())
    };
    input.map(func, |_: &Schema, f: &Field| {
        Ok(Field::new(f.name().clone(), DataType::String))
    })
}

fn upid_to_cmdline(args: &[Operand], env: &Env) -> Result<TypedExpr, FnError> {
    let upid = upid_arg(args, "upid_to_cmdline")?;
    Ok(TypedExpr::new(
        lookup(upid, env.metadata.clone(), |m, k| m.cmdline(k)),
        PxType::String,
    ))
}

fn upid_to_hostname(args: &[Operand], env: &Env) -> Result<TypedExpr, FnError> {
    let upid = upid_arg(args, "upid_to_hostname")?;
    Ok(TypedExpr::new(
        lookup(upid, env.metadata.clone(), |m, k| m.hostname(k)),
        PxType::String,
    ))
}

fn upid_to_container_id(args: &[Operand], env: &Env) -> Result<TypedExpr, FnError> {
    let upid = upid_arg(args, "upid_to_container_id")?;
    Ok(TypedExpr::new(
        lookup(upid, env.metadata.clone(), |m, k| m.container_id(k)),
        PxType::String,
    ))
}

fn nslookup(args: &[Operand], env: &Env) -> Result<TypedExpr, FnError> {
    let addr = arg(args, 0, "nslookup", "addr")?;
    expect_type(addr, STRING, "nslookup", "addr")?;
    Ok(TypedExpr::new(
        lookup(addr.expr(), env.metadata.clone(), |m, k| m.reverse_dns(k)),
        PxType::String,
    ))
}

fn has_service(args: &[Operand], func: &str, param: &str) -> Result<TypedExpr, FnError> {
    let service = arg(args, 0, func, param)?;
    expect_type(service, STRING, func, param)?;
    let value = arg(args, 1, func, "value")?;
    expect_type(value, STRING, func, "value")?;
    Ok(TypedExpr::new(
        rowwise(
            vec![service.expr(), value.expr()],
            &[In::Str, In::Str],
            |r| {
                let (service, value) = (r.str(0), r.str(1));
                match Json::parse(service) {
                    Some(Json::Array(items)) => items
                        .iter()
                        .map_while(|i| match i {
                            Json::Str(s) => Some(s == value),
                            _ => None,
                        })
                        .any(|eq| eq),
                    _ => service == value,
                }
            },
        ),
        PxType::Boolean,
    ))
}

fn has_service_name(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    has_service(args, "has_service_name", "service")
}

fn has_service_id(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    has_service(args, "has_service_id", "service_id")
}

fn exec_hostname(_: &[Operand], env: &Env) -> Result<TypedExpr, FnError> {
    Ok(TypedExpr::new(
        lit(env.metadata.exec_hostname()),
        PxType::String,
    ))
}

fn exec_host_num_cpus(_: &[Operand], env: &Env) -> Result<TypedExpr, FnError> {
    Ok(TypedExpr::new(
        lit(env.metadata.exec_num_cpus()).cast(DataType::Int64),
        PxType::Int64,
    ))
}

fn asid(_: &[Operand], env: &Env) -> Result<TypedExpr, FnError> {
    Ok(TypedExpr::new(
        lit(env.metadata.asid()).cast(DataType::Int64),
        PxType::Int64,
    ))
}

/// What a Kubernetes lookup takes and returns.
struct K8s {
    name: &'static str,
    param: &'static str,
    semantic: SemanticType,
    /// TIME64NS output (the provider answers ns since the epoch as text).
    time: bool,
    doc: &'static str,
}

const fn k8s(
    name: &'static str,
    param: &'static str,
    semantic: SemanticType,
    doc: &'static str,
) -> K8s {
    K8s {
        name,
        param,
        semantic,
        time: false,
        doc,
    }
}

/// The Kubernetes lookups scry knows, by Pixie name. Each asks
/// `MetadataProvider::k8s(name, key)`.
const K8S: &[K8s] = &[
    k8s(
        "upid_to_pod_name",
        "upid",
        SemanticType::PodName,
        "The pod (`namespace/name`) of the process; '' on a bare host.",
    ),
    k8s(
        "upid_to_pod_id",
        "upid",
        SemanticType::None,
        "The pod UID of the process; '' on a bare host.",
    ),
    k8s(
        "upid_to_pod_status",
        "upid",
        SemanticType::PodStatus,
        "The pod status of the process as JSON; '' on a bare host.",
    ),
    k8s(
        "upid_to_pod_qos",
        "upid",
        SemanticType::None,
        "The pod QoS class of the process; '' on a bare host.",
    ),
    k8s(
        "upid_to_namespace",
        "upid",
        SemanticType::NamespaceName,
        "The namespace of the process; '' on a bare host.",
    ),
    k8s(
        "upid_to_node_name",
        "upid",
        SemanticType::NodeName,
        "The node the process runs on; '' on a bare host.",
    ),
    k8s(
        "upid_to_container_name",
        "upid",
        SemanticType::ContainerName,
        "The container name of the process; '' outside containers.",
    ),
    k8s(
        "upid_to_service_name",
        "upid",
        SemanticType::ServiceName,
        "The service (`namespace/name`) of the process; '' on a bare host.",
    ),
    k8s(
        "upid_to_service_id",
        "upid",
        SemanticType::None,
        "The service UID of the process; '' on a bare host.",
    ),
    k8s(
        "upid_to_deployment_name",
        "upid",
        SemanticType::None,
        "The deployment of the process; '' on a bare host.",
    ),
    k8s(
        "upid_to_deployment_id",
        "upid",
        SemanticType::None,
        "The deployment UID of the process; '' on a bare host.",
    ),
    k8s(
        "upid_to_replicaset_name",
        "upid",
        SemanticType::None,
        "The replica set of the process; '' on a bare host.",
    ),
    k8s(
        "upid_to_replicaset_id",
        "upid",
        SemanticType::None,
        "The replica set UID of the process; '' on a bare host.",
    ),
    k8s(
        "ip_to_pod_id",
        "pod_ip",
        SemanticType::None,
        "The UID of the pod with this IP; '' when none (always on a bare host).",
    ),
    k8s(
        "ip_to_service_id",
        "ip",
        SemanticType::None,
        "The UID of the service with this IP; '' when none.",
    ),
    k8s(
        "pod_id_to_pod_name",
        "pod_id",
        SemanticType::PodName,
        "The name (`namespace/name`) of the pod with this UID; ''.",
    ),
    k8s(
        "pod_id_to_namespace",
        "pod_id",
        SemanticType::NamespaceName,
        "The namespace of the pod with this UID; '' when unknown.",
    ),
    k8s(
        "pod_id_to_node_name",
        "pod_id",
        SemanticType::NodeName,
        "The node of the pod with this UID; '' when unknown.",
    ),
    k8s(
        "pod_id_to_service_name",
        "pod_id",
        SemanticType::ServiceName,
        "The service of the pod with this UID; '' when unknown.",
    ),
    k8s(
        "pod_id_to_service_id",
        "pod_id",
        SemanticType::None,
        "The service UID of the pod with this UID; '' when unknown.",
    ),
    k8s(
        "pod_id_to_deployment_name",
        "pod_id",
        SemanticType::None,
        "The deployment of the pod with this UID; '' when unknown.",
    ),
    k8s(
        "pod_id_to_replicaset_name",
        "pod_id",
        SemanticType::None,
        "The replica set of the pod with this UID; '' when unknown.",
    ),
    k8s(
        "pod_name_to_pod_id",
        "pod_name",
        SemanticType::None,
        "The UID of the pod with this name; '' when unknown.",
    ),
    k8s(
        "pod_name_to_pod_ip",
        "pod_name",
        SemanticType::IpAddress,
        "The IP of the pod with this name; '' when unknown.",
    ),
    k8s(
        "pod_name_to_namespace",
        "pod_name",
        SemanticType::NamespaceName,
        "The namespace of the pod with this name; '' when unknown.",
    ),
    k8s(
        "pod_name_to_service_name",
        "pod_name",
        SemanticType::ServiceName,
        "The service of the pod with this name; '' when unknown.",
    ),
    k8s(
        "pod_name_to_service_id",
        "pod_name",
        SemanticType::None,
        "The service UID of the pod with this name; '' when unknown.",
    ),
    k8s(
        "pod_name_to_status",
        "pod_name",
        SemanticType::PodStatus,
        "The status of the pod with this name as JSON; '' when unknown.",
    ),
    k8s(
        "pod_name_to_deployment_name",
        "pod_name",
        SemanticType::None,
        "The deployment of the pod with this name; '' when unknown.",
    ),
    K8s {
        name: "pod_name_to_start_time",
        param: "pod_name",
        semantic: SemanticType::None,
        time: true,
        doc: "When the pod with this name started; the epoch when unknown.",
    },
    k8s(
        "service_id_to_service_name",
        "service_id",
        SemanticType::ServiceName,
        "The name of the service with this UID; '' when unknown.",
    ),
    k8s(
        "service_name_to_service_id",
        "service_name",
        SemanticType::None,
        "The UID of the service with this name; '' when unknown.",
    ),
    k8s(
        "service_name_to_namespace",
        "service_name",
        SemanticType::NamespaceName,
        "The namespace of the service with this name; '' when unknown.",
    ),
    k8s(
        "container_id_to_status",
        "id",
        SemanticType::ContainerStatus,
        "The status of the container with this id as JSON; '' when unknown.",
    ),
];

/// Lowers a Kubernetes lookup: the function name selects the row of `K8S`.
fn k8s_lookup(name: &'static str) -> ScalarLowering {
    macro_rules! lowerings {
        ($($n:literal),* $(,)?) => {
            match name {
                $($n => (|args: &[Operand], env: &Env| k8s_lower($n, args, env)) as ScalarLowering,)*
                _ => (|_: &[Operand], _: &Env| -> Result<TypedExpr, FnError> {
                    Err(FnError::new("unknown Kubernetes lookup"))
                }) as ScalarLowering,
            }
        };
    }
    lowerings!(
        "upid_to_pod_name",
        "upid_to_pod_id",
        "upid_to_pod_status",
        "upid_to_pod_qos",
        "upid_to_namespace",
        "upid_to_node_name",
        "upid_to_container_name",
        "upid_to_service_name",
        "upid_to_service_id",
        "upid_to_deployment_name",
        "upid_to_deployment_id",
        "upid_to_replicaset_name",
        "upid_to_replicaset_id",
        "ip_to_pod_id",
        "ip_to_service_id",
        "pod_id_to_pod_name",
        "pod_id_to_namespace",
        "pod_id_to_node_name",
        "pod_id_to_service_name",
        "pod_id_to_service_id",
        "pod_id_to_deployment_name",
        "pod_id_to_replicaset_name",
        "pod_name_to_pod_id",
        "pod_name_to_pod_ip",
        "pod_name_to_namespace",
        "pod_name_to_service_name",
        "pod_name_to_service_id",
        "pod_name_to_status",
        "pod_name_to_deployment_name",
        "pod_name_to_start_time",
        "service_id_to_service_name",
        "service_name_to_service_id",
        "service_name_to_namespace",
        "container_id_to_status",
    )
}

fn k8s_lower(name: &'static str, args: &[Operand], env: &Env) -> Result<TypedExpr, FnError> {
    let spec = K8S
        .iter()
        .find(|k| k.name == name)
        .ok_or_else(|| FnError::new(format!("px.{name}: unknown lookup")))?;
    let key = arg(args, 0, name, spec.param)?;
    expect_type(
        key,
        if spec.param == "upid" { UPID } else { STRING },
        name,
        spec.param,
    )?;
    let metadata = env.metadata.clone();
    let looked_up = rowwise_cached(key.expr(), move |k| metadata.k8s(name, k));
    if spec.time {
        let ns = rowwise(vec![looked_up], &[In::Str], |r| {
            r.str(0).trim().parse::<i64>().unwrap_or(0)
        });
        return Ok(TypedExpr::new(ns.cast(time_dtype()), PxType::Time64Ns));
    }
    Ok(TypedExpr::new(looked_up, PxType::String).with_semantic(spec.semantic))
}

fn k8s_defs() -> Vec<FunctionDef> {
    K8S.iter()
        .map(|k| {
            let (input, output): (&'static str, &'static str) = match (k.param, k.time) {
                ("upid", _) => (k8s_example_upid(k.name), "\"\""),
                (_, true) => (
                    "px.pod_name_to_start_time('default/web-0')",
                    "\"1970-01-01T00:00:00.000000000Z\"",
                ),
                _ => (k8s_example_other(k.name), "\"\""),
            };
            FunctionDef {
                name: k.name,
                kind: FunctionKind::Scalar(k8s_lookup(k.name)),
                params: k8s_params(k.param),
                returns: if k.time { "TIME64NS" } else { "STRING" },
                doc: k.doc,
                example: Example { input, output },
                pure: false,
            }
        })
        .collect()
}

fn k8s_params(param: &str) -> &'static [Param] {
    match param {
        "upid" => const { &[Param::new("upid", UPID)] },
        "pod_ip" => const { &[Param::new("pod_ip", STRING)] },
        "ip" => const { &[Param::new("ip", STRING)] },
        "pod_id" => const { &[Param::new("pod_id", STRING)] },
        "pod_name" => const { &[Param::new("pod_name", STRING)] },
        "service_id" => const { &[Param::new("service_id", STRING)] },
        "service_name" => const { &[Param::new("service_name", STRING)] },
        _ => const { &[Param::new("id", STRING)] },
    }
}

/// Examples run with no Kubernetes metadata, so they show the bare-host ''.
fn k8s_example_upid(name: &str) -> &'static str {
    macro_rules! ex {
        ($($n:literal),*) => {
            match name {
                $($n => concat!("px.", $n, "('1:4242:99')"),)*
                _ => "px.upid_to_pod_name('1:4242:99')",
            }
        };
    }
    ex!(
        "upid_to_pod_name",
        "upid_to_pod_id",
        "upid_to_pod_status",
        "upid_to_pod_qos",
        "upid_to_namespace",
        "upid_to_node_name",
        "upid_to_container_name",
        "upid_to_service_name",
        "upid_to_service_id",
        "upid_to_deployment_name",
        "upid_to_deployment_id",
        "upid_to_replicaset_name",
        "upid_to_replicaset_id"
    )
}

fn k8s_example_other(name: &str) -> &'static str {
    macro_rules! ex {
        ($($n:literal => $arg:literal),* $(,)?) => {
            match name {
                $($n => concat!("px.", $n, "('", $arg, "')"),)*
                _ => "px.ip_to_pod_id('10.0.0.1')",
            }
        };
    }
    ex!(
        "ip_to_pod_id" => "10.0.0.1",
        "ip_to_service_id" => "10.0.0.1",
        "pod_id_to_pod_name" => "0e4b3f4c-pod",
        "pod_id_to_namespace" => "0e4b3f4c-pod",
        "pod_id_to_node_name" => "0e4b3f4c-pod",
        "pod_id_to_service_name" => "0e4b3f4c-pod",
        "pod_id_to_service_id" => "0e4b3f4c-pod",
        "pod_id_to_deployment_name" => "0e4b3f4c-pod",
        "pod_id_to_replicaset_name" => "0e4b3f4c-pod",
        "pod_name_to_pod_id" => "default/web-0",
        "pod_name_to_pod_ip" => "default/web-0",
        "pod_name_to_namespace" => "default/web-0",
        "pod_name_to_service_name" => "default/web-0",
        "pod_name_to_service_id" => "default/web-0",
        "pod_name_to_status" => "default/web-0",
        "pod_name_to_deployment_name" => "default/web-0",
        "service_id_to_service_name" => "6a1e-svc",
        "service_name_to_service_id" => "default/web",
        "service_name_to_namespace" => "default/web",
        "container_id_to_status" => "3f2a9c",
    )
}

pub fn defs() -> Vec<FunctionDef> {
    let mut defs = vec![
        FunctionDef {
            name: "upid_to_pid",
            kind: FunctionKind::Scalar(upid_to_pid),
            params: const { &[Param::new("upid", UPID)] },
            returns: "INT64",
            doc: "The PID of the process with this upid.",
            example: Example {
                input: "px.upid_to_pid('1:4242:99')",
                output: "4242",
            },
            pure: true,
        },
        FunctionDef {
            name: "upid_to_asid",
            kind: FunctionKind::Scalar(upid_to_asid),
            params: const { &[Param::new("upid", UPID)] },
            returns: "INT64",
            doc: "The agent short id (node) of the process with this upid.",
            example: Example {
                input: "px.upid_to_asid('1:4242:99')",
                output: "1",
            },
            pure: true,
        },
        FunctionDef {
            name: "upid_to_string",
            kind: FunctionKind::Scalar(upid_to_string),
            params: const { &[Param::new("upid", UPID)] },
            returns: "STRING",
            doc: "The upid as text, `asid:pid:start_ticks`.",
            example: Example {
                input: "px.upid_to_string('1:4242:99')",
                output: "\"1:4242:99\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "upid_to_cmdline",
            kind: FunctionKind::Scalar(upid_to_cmdline),
            params: const { &[Param::new("upid", UPID)] },
            returns: "STRING",
            doc: "The command line of the process; '' when it is unknown.",
            example: Example {
                input: "px.upid_to_cmdline('1:4242:99')",
                output: "\"\"",
            },
            pure: false,
        },
        FunctionDef {
            name: "upid_to_hostname",
            kind: FunctionKind::Scalar(upid_to_hostname),
            params: const { &[Param::new("upid", UPID)] },
            returns: "STRING",
            doc: "The host name of the node (or container) the process runs on; '' when unknown.",
            example: Example {
                input: "px.upid_to_hostname('1:4242:99')",
                output: "\"\"",
            },
            pure: false,
        },
        FunctionDef {
            name: "upid_to_container_id",
            kind: FunctionKind::Scalar(upid_to_container_id),
            params: const { &[Param::new("upid", UPID)] },
            returns: "STRING",
            doc: "The container id of the process (from its cgroup); '' outside containers.",
            example: Example {
                input: "px.upid_to_container_id('1:4242:99')",
                output: "\"\"",
            },
            pure: false,
        },
        FunctionDef {
            name: "nslookup",
            kind: FunctionKind::Scalar(nslookup),
            params: const { &[Param::new("addr", STRING)] },
            returns: "STRING",
            doc: "Reverse DNS of an IP address; the address itself when it has no name.",
            example: Example {
                input: "px.nslookup('10.0.0.1')",
                output: "\"10.0.0.1\"",
            },
            pure: false,
        },
        FunctionDef {
            name: "has_service_name",
            kind: FunctionKind::Scalar(has_service_name),
            params: const { &[Param::new("service", STRING), Param::new("value", STRING)] },
            returns: "BOOLEAN",
            doc: "Whether `service` (a name or a JSON list of names) is or contains `value`.",
            example: Example {
                input: r#"px.has_service_name('["ns/a", "ns/b"]', 'ns/b')"#,
                output: "true",
            },
            pure: true,
        },
        FunctionDef {
            name: "has_service_id",
            kind: FunctionKind::Scalar(has_service_id),
            params: const {
                &[
                    Param::new("service_id", STRING),
                    Param::new("value", STRING),
                ]
            },
            returns: "BOOLEAN",
            doc: "Whether `service_id` (an id or a JSON list of ids) is or contains `value`.",
            example: Example {
                input: "px.has_service_id('a1', 'a1')",
                output: "true",
            },
            pure: true,
        },
        FunctionDef {
            name: "_exec_hostname",
            kind: FunctionKind::Scalar(exec_hostname),
            params: &[],
            returns: "STRING",
            doc: "The host name of the node running the query; '' when unknown.",
            example: Example {
                input: "px._exec_hostname()",
                output: "\"\"",
            },
            pure: false,
        },
        FunctionDef {
            name: "_exec_host_num_cpus",
            kind: FunctionKind::Scalar(exec_host_num_cpus),
            params: &[],
            returns: "INT64",
            doc: "The number of CPUs of the node running the query; 0 when unknown.",
            example: Example {
                input: "px._exec_host_num_cpus()",
                output: "0",
            },
            pure: false,
        },
        FunctionDef {
            name: "asid",
            kind: FunctionKind::Scalar(asid),
            params: &[],
            returns: "INT64",
            doc: "The agent short id of the node the data comes from (0 on a single host).",
            example: Example {
                input: "px.asid()",
                output: "0",
            },
            pure: false,
        },
    ];
    defs.extend(k8s_defs());
    defs
}
