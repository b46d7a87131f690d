"""Train-time use of the targets in a PyTorch ``Dataset`` (docs/python.md). Images are stood
in for by their row number; a real dataset would load the image of ``labels.row[i]``.

    python python/examples/torch_dataset.py
"""

import torch
from torch.utils.data import DataLoader, Dataset

import geocells


class GeocellDataset(Dataset):
    """One sample per labelled point: (image stand-in, hard label, smoothed target vector)."""

    def __init__(self, run: "geocells.Run"):
        self.labels = run.labels
        self.num_cells = run.num_cells
        self.cell_ids, self.weights = run.target_arrays()  # (n, top_k) each

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        target = torch.zeros(self.num_cells)
        ids, w = self.cell_ids[i], self.weights[i]
        keep = ids >= 0
        target[torch.from_numpy(ids[keep])] = torch.from_numpy(w[keep]).float()
        row = int(self.labels["row"].iat[i])
        return torch.tensor(row), int(self.labels["cell_id"].iat[i]), target


if __name__ == "__main__":
    run = geocells.build(**geocells.default_data("."), progress=False)
    ds = GeocellDataset(run)
    rows, cells, targets = next(iter(DataLoader(ds, batch_size=32, shuffle=True)))
    # PIGEON's loss: cross-entropy against the smoothed targets.
    logits = torch.randn(len(rows), ds.num_cells)
    loss = torch.sum(-targets * torch.log_softmax(logits, dim=1), dim=1).mean()
    print("batch", tuple(targets.shape), "loss", float(loss))
    assert torch.allclose(targets.sum(dim=1), torch.ones(len(rows)), atol=1e-5)
