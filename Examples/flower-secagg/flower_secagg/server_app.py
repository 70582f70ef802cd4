"""The ServerApp: FedAvg over the linear model, each fit round aggregated securely."""

from flwr.common import Context, ndarrays_to_parameters
from flwr.server import LegacyContext, ServerApp, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow

from secagg.flower import SecAggWorkflow  # was: from flwr.server.workflow import SecAggPlusWorkflow

from flower_secagg import task

app = ServerApp()


@app.main()
def main(grid, context: Context) -> None:
    cfg = context.run_config
    clients = int(cfg["min-clients"])
    strategy = FedAvg(
        fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=clients, min_available_clients=clients,
        initial_parameters=ndarrays_to_parameters(task.initial_parameters(int(cfg["model-size"]))),
    )
    context = LegacyContext(context=context, config=ServerConfig(num_rounds=int(cfg["num-server-rounds"])),
                            strategy=strategy)
    workflow = DefaultWorkflow(
        fit_workflow=SecAggWorkflow(  # was: SecAggPlusWorkflow(
            num_shares=float(cfg["num-shares"]),
            reconstruction_threshold=float(cfg["reconstruction-threshold"]),
            timeout=float(cfg["timeout"]),
        )
    )
    workflow(grid, context)
