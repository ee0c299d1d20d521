//! `spin-host`: runs a Spin HTTP app the way `spin up` does.
//!
//! The project cannot install the `spin` CLI everywhere it runs tests, so this
//! small native host stands in for it: it reads `spin.toml`, resolves
//! variables, compiles the component and serves HTTP with the same routing,
//! headers, WASI/wasi:http and `fermyon:spin` Redis and variables semantics.
//! Its one job is fidelity: a component that passes under it must pass under
//! Spin.

mod bindings;
mod componentize;
mod engine;
mod instance;
mod manifest;
mod outbound;
mod redis;
mod routes;
mod runtime_config;
mod server;
mod template;
mod variables;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::instance::ComponentConfig;
use crate::manifest::Manifest;
use crate::outbound::AllowedHosts;
use crate::routes::Router;
use crate::server::{ServedComponent, Server};
use crate::variables::{AppVariables, ComponentVariables};

/// Command line, shaped like `spin up`'s.
#[derive(Parser)]
#[command(version, about = "Runs a Spin HTTP application like `spin up`")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the application and serve HTTP.
    Up(UpArgs),
}

/// The `spin up` options this host supports.
#[derive(clap::Args)]
struct UpArgs {
    /// The application manifest (spin.toml) or the directory holding it.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    from: PathBuf,

    /// The address to listen on.
    #[arg(long = "listen", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,

    /// A runtime configuration file (variables providers).
    #[arg(long = "runtime-config-file")]
    runtime_config_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => up(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line with the whole cause chain, never a backtrace.
            eprintln!("Error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn up(args: UpArgs) -> Result<()> {
    let manifest_path = Manifest::locate(&args.from);
    let manifest = Manifest::load(&manifest_path)?;
    let providers = runtime_config::load_providers(args.runtime_config_file.as_deref())?;
    let app_variables = AppVariables::resolve(&manifest.variables, &providers)
        .context("failed to resolve application variables")?;

    let (router, warnings) = Router::build(&manifest.routes)?;
    for warning in warnings {
        eprintln!("Warning: {warning}");
    }

    let engine = engine::engine()?;
    let linker = engine::linker(&engine)?;
    let mut components = HashMap::new();
    for route in &manifest.routes {
        if components.contains_key(&route.component) {
            continue;
        }
        let served = prepare_component(
            &manifest,
            &app_variables,
            &engine,
            &linker,
            &route.component,
        )?;
        components.insert(route.component.clone(), served);
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let local_addr = listener.local_addr()?;
    print_routes(&router, local_addr);

    let server = Arc::new(Server {
        router,
        components,
        app_info: app_info(&manifest),
    });
    tokio::select! {
        result = server.serve(listener) => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// Resolves a component's configuration and compiles it.
fn prepare_component(
    manifest: &Manifest,
    app_variables: &AppVariables,
    engine: &wasmtime::Engine,
    linker: &wasmtime::component::Linker<instance::InstanceState>,
    id: &str,
) -> Result<ServedComponent> {
    let component = &manifest.components[id];
    let allowed_hosts = AllowedHosts::resolve(&component.allowed_outbound_hosts, app_variables)
        .with_context(|| format!("invalid allowed_outbound_hosts for component {id:?}"))?;
    if allowed_hosts.mentions_scheme(&["http", "https"]) {
        eprintln!("Warning: component {id:?} allows outbound HTTP, which spin-host does not implement; such requests will be refused");
    }
    let config = ComponentConfig {
        id: id.to_string(),
        allowed_hosts,
        variables: ComponentVariables::new(id, &component.variables, app_variables)?,
        trace_calls: std::env::var_os("SPIN_HOST_TRACE_CALLS").is_some_and(|v| v == "1"),
        environment: component
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    let source = manifest.component_source(id)?;
    let prepared = engine::prepare(engine, linker, id, Path::new(&source))?;
    eprintln!(
        "Component {id:?} ({}) imports: {}",
        source.display(),
        prepared.imports.join(", ")
    );
    Ok(ServedComponent {
        pre: prepared.pre,
        config: Arc::new(config),
    })
}

/// Prints Spin's start-up banner and route list to stdout.
fn print_routes(router: &Router, local_addr: SocketAddr) {
    let base_url = format!("http://{local_addr:?}");
    println!("\nServing {base_url}");
    println!("Available Routes:");
    for (component, route) in router.listing() {
        println!("  {component}: {base_url}{route}");
    }
}

/// The JSON body of `/.well-known/spin/info`.
fn app_info(manifest: &Manifest) -> String {
    #[derive(serde::Serialize)]
    struct AppInfo<'a> {
        name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<&'a str>,
    }
    let info = AppInfo {
        name: &manifest.application.name,
        version: Some(manifest.application.version.as_str()).filter(|v| !v.is_empty()),
    };
    serde_json::to_string_pretty(&info).unwrap_or_default()
}
