//! The Wasmtime engine, linker and pre-instantiated component.
//!
//! Built once at start-up, like Spin: an async engine with the pooling
//! allocator sized as Spin sizes it, one `Linker` with WASI p2, wasi:http and
//! the Spin interfaces, and one `ProxyPre` per component so each request only
//! instantiates. A component that imports anything else is refused here, with
//! the import named, instead of failing on its first request.

use std::path::Path;

use anyhow::{Context, Result};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::bindings::fermyon::spin::{redis as spin_redis, variables as spin_variables};
use crate::componentize::componentize_if_necessary;
use crate::instance::InstanceState;

const MB: usize = 1 << 20;
const GB: usize = 1 << 30;

/// Creates the engine; falls back to on-demand allocation (with a warning) if
/// the machine cannot reserve the pooling allocator's address space, as Spin does.
pub fn engine() -> Result<Engine> {
    let mut config = base_config();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling()));
    match Engine::new(&config) {
        Ok(engine) => Ok(engine),
        Err(err) => {
            eprintln!(
                "Warning: pooling allocator unavailable ({err:#}); using on-demand allocation"
            );
            Engine::new(&base_config())
                .map_err(anyhow::Error::from)
                .context("failed to create the Wasmtime engine")
        }
    }
}

fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config
}

/// Spin's pooling limits (`spin-core`), for 1000 concurrent instances.
fn pooling() -> PoolingAllocationConfig {
    let max_instances = 1_000;
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(max_instances)
        .total_memories(max_instances)
        .total_tables(2 * max_instances)
        .total_stacks(max_instances)
        .total_core_instances(4 * max_instances)
        .table_elements(100_000)
        .max_component_instance_size(10 * MB)
        .max_core_instance_size(10 * MB)
        .max_core_instances_per_component(200)
        .max_tables_per_component(64)
        .max_memories_per_component(32)
        .max_tables_per_module(2)
        .max_memories_per_module(2)
        .max_memory_size(4 * GB)
        .linear_memory_keep_resident(2 * MB)
        .table_keep_resident(MB / 2);
    pooling
}

/// The linker every component is linked with.
pub fn linker(engine: &Engine) -> Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(anyhow::Error::from)
        .context("linking WASI p2")?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(anyhow::Error::from)
        .context("linking wasi:http")?;
    spin_redis::add_to_linker::<_, HasSelf<InstanceState>>(&mut linker, |s| s)
        .map_err(anyhow::Error::from)
        .context("linking fermyon:spin/redis")?;
    spin_variables::add_to_linker::<_, HasSelf<InstanceState>>(&mut linker, |s| s)
        .map_err(anyhow::Error::from)
        .context("linking fermyon:spin/variables")?;
    Ok(linker)
}

/// A compiled, pre-linked component plus the names of what it imports.
pub struct Prepared {
    /// Ready to instantiate once per request.
    pub pre: ProxyPre<InstanceState>,
    /// The component's import names, for the start-up log.
    pub imports: Vec<String>,
}

/// Reads, componentizes, compiles and pre-links the component at `path`.
pub fn prepare(
    engine: &Engine,
    linker: &Linker<InstanceState>,
    id: &str,
    path: &Path,
) -> Result<Prepared> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("failed to read component {id:?} source {}", path.display()))?;
    let bytes = componentize_if_necessary(bytes)
        .with_context(|| format!("failed to turn {} into a component", path.display()))?;
    let component = Component::new(engine, &bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("failed to compile component {id:?}"))?;
    let imports = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let instance_pre = linker
        .instantiate_pre(&component)
        .map_err(anyhow::Error::from)
        .with_context(|| {
            format!("component {id:?} imports an interface that spin-host does not provide")
        })?;
    let pre = ProxyPre::new(instance_pre)
        .map_err(anyhow::Error::from)
        .with_context(|| {
            format!("component {id:?} does not export wasi:http/incoming-handler@0.2.x")
        })?;
    Ok(Prepared { pre, imports })
}
