import torch
from torch import nn

from trust_core.models.training import adam, constant, cross_entropy, train_loop


def _data():
    gen = torch.Generator().manual_seed(0)
    return torch.randn(40, 5, generator=gen), torch.randint(0, 3, (40,), generator=gen)


def _trained(**options) -> torch.Tensor:
    torch.manual_seed(0)
    model = train_loop(nn.Linear(5, 3), *_data(), cross_entropy, epochs=2, batch=8, lr=0.1, **options)
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def sgd(params, lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr)


def test_adam_is_the_default_and_the_optimizer_is_the_callers_choice():
    assert torch.equal(_trained(), _trained(optimizer=adam))
    torch.manual_seed(0)
    model, (x, y) = nn.Linear(5, 3), _data()
    grads = torch.autograd.grad(nn.functional.cross_entropy(model(x[:8]), y[:8]), list(model.parameters()))
    expected = torch.cat([(p - 0.1 * g).detach().flatten() for p, g in zip(model.parameters(), grads)])
    torch.manual_seed(0)  # one batch of 8: one plain SGD step
    one_step = train_loop(nn.Linear(5, 3), x[:8], y[:8], cross_entropy, epochs=1, batch=8, lr=0.1, schedule=constant,
                          optimizer=sgd)
    assert torch.allclose(torch.cat([p.detach().flatten() for p in one_step.parameters()]), expected, atol=1e-6)
    assert not torch.equal(_trained(optimizer=sgd), _trained())
