"""The ClientApp: local training of the linear model, with secure aggregation as a mod."""

from flwr.client import ClientApp, NumPyClient
from flwr.common import Context

from secagg.flower import secagg_mod  # was: from flwr.client.mod import secaggplus_mod

from flower_secagg import task


class LinearClient(NumPyClient):
    def __init__(self, partition_id: int) -> None:
        self.partition_id = partition_id

    def fit(self, parameters, config):
        return task.train(parameters, self.partition_id), task.num_examples(self.partition_id), {
            "partition-id": self.partition_id}


def client_fn(context: Context):
    return LinearClient(int(context.node_config["partition-id"])).to_client()


app = ClientApp(client_fn=client_fn, mods=[secagg_mod])  # was: mods=[secaggplus_mod]
