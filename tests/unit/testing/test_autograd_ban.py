"""a3's static autograd check, ``grader.testing.autograd_uses``, on small submissions (no sandbox).

Each test is a notebook in miniature: a list of code cells, and the graded names the
check starts from. A finding reads "`name` (cell c, line l): what".
"""

from grader.testing import autograd_uses

HONEST_RELU = "def relu_backward(dout, z):\n    return dout * (z > 0)\n"
AUTOGRAD_RELU = (
    "def relu_backward(dout, z):\n"
    "    z = z.detach().clone().requires_grad_()\n"
    "    z.clamp(min=0).backward(dout)\n"
    "    return z.grad\n"
)


def uses(*cells: str, graded: tuple[str, ...] = ("relu_backward",)) -> list[str]:
    return autograd_uses(list(cells), graded)


# ----------------------------------------------------------------- what is found


def test_backward_requires_grad_and_grad_in_a_graded_function_are_found():
    assert uses("import torch", AUTOGRAD_RELU) == [
        "`relu_backward` (cell 2, line 2): uses .requires_grad_",
        "`relu_backward` (cell 2, line 3): uses .backward",
        "`relu_backward` (cell 2, line 4): uses .grad",
    ]


def test_autograd_in_a_helper_is_found_through_the_graded_function():
    helper = (
        "def _vjp(f, z, dout):\n"
        "    z = z.detach().requires_grad_()\n    f(z).backward(dout)\n    return z.grad\n"
    )
    graded = "def relu_backward(dout, z):\n    return _vjp(lambda t: t.clamp(min=0), z, dout)\n"
    found = uses(helper, graded)
    assert found and all(f.startswith("`_vjp` (cell 1,") for f in found)


def test_a_graded_function_reaches_helpers_through_a_table_of_functions():
    table = "BACKWARDS = {'relu': relu_backward}"
    mlp = "def mlp_loss_and_grads(x, y, params, activation='relu'):\n    return BACKWARDS[activation]\n"
    assert uses(AUTOGRAD_RELU, table, mlp, graded=("mlp_loss_and_grads",))
    assert uses(HONEST_RELU, table, mlp, graded=("mlp_loss_and_grads",)) == []


def test_an_aliased_import_of_torch_autograd_grad_is_found():
    imports = "import torch\nfrom torch.autograd import grad as G"
    graded = "def tanh_backward(dout, z):\n    z = z.detach()\n    return G(torch.tanh(z), z, dout)[0]\n"
    assert uses(imports, graded, graded=("tanh_backward",)) == [
        "`G` (cell 1, line 2): imports grad from torch.autograd",
    ]


def test_torch_func_is_found():
    graded = (
        "def tanh_backward(dout, z):\n    return dout * torch.func.grad(lambda t: torch.tanh(t).sum())(z)\n"
    )
    found = uses("import torch", graded, graded=("tanh_backward",))
    assert "`tanh_backward` (cell 2, line 2): uses torch.func" in found


def test_from_torch_import_autograd_is_found():
    graded = "def relu_backward(dout, z):\n    return autograd.grad(z.clamp(min=0), z, dout)[0]\n"
    found = uses("from torch import autograd", graded)
    assert "`autograd` (cell 1, line 1): imports autograd from torch" in found
    assert "`relu_backward` (cell 2, line 2): uses autograd" in found


def test_getattr_with_a_constant_autograd_name_is_found():
    graded = (
        "def relu_backward(dout, z):\n"
        "    loss = (z.clamp(min=0) * dout).sum()\n    getattr(loss, 'backward')()\n"
    )
    assert uses(graded) == ["`relu_backward` (cell 1, line 3): looks up 'backward' by name"]


def test_requires_grad_passed_as_a_keyword_is_found():
    graded = (
        "def relu_backward(dout, z):\n    z = torch.tensor(z.tolist(), requires_grad=True)\n    return z\n"
    )
    assert uses("import torch", graded) == ["`relu_backward` (cell 2, line 2): passes requires_grad="]


# ----------------------------------------------------------------- what is not


def test_a_function_named_like_a_backward_is_not_flagged_by_its_name():
    mlp = "def mlp_loss_and_grads(x, y, params):\n    return relu_backward(x, x), dense_backward\n"
    dense = "def dense_backward(dout, x, W):\n    return dout @ W.T, x.T @ dout, dout.sum(dim=0)\n"
    assert uses(HONEST_RELU, dense, mlp, graded=("mlp_loss_and_grads",)) == []


def test_autograd_in_an_experiment_cell_is_not_flagged():
    experiment = (
        "z = torch.randn(3, requires_grad=True)\n"
        "z.clamp(min=0).sum().backward()\n"
        "print(relu_backward(torch.ones(3), z.detach()) - z.grad)\n"
    )
    assert uses("import torch", HONEST_RELU, experiment) == []


def test_an_unreachable_function_that_uses_autograd_is_not_flagged():
    check = "def check_with_autograd(z):\n    z.requires_grad_()\n    z.sum().backward()\n    return z.grad\n"
    assert uses(HONEST_RELU, check) == []


def test_a_parameter_is_not_the_experiment_variable_of_the_same_name():
    experiment = "x = torch.randn(4, 5).requires_grad_()\nW = torch.randn(5, 3, requires_grad=True)"
    graded = "def dense_backward(dout, x, W):\n    return dout @ W.T, x.T @ dout, dout.sum(dim=0)\n"
    assert uses("import torch", experiment, graded, graded=("dense_backward",)) == []


def test_a_global_read_by_a_graded_function_is_followed():
    experiment = "W0 = torch.randn(5, 3).requires_grad_()"
    graded = "def dense_backward(dout, x, W):\n    return dout @ W0.T, x.T @ dout, dout.sum(dim=0)\n"
    assert uses("import torch", experiment, graded, graded=("dense_backward",)) == [
        "`W0` (cell 2, line 1): uses .requires_grad_",
    ]


def test_import_torch_autograd_at_top_level_does_not_flag_functions_that_use_torch():
    graded = "def tanh_backward(dout, z):\n    return dout * (1 - torch.tanh(z) ** 2)\n"
    assert uses("import torch\nimport torch.autograd", graded, graded=("tanh_backward",)) == []


def test_a_later_redefinition_replaces_an_earlier_one():
    assert uses(AUTOGRAD_RELU, HONEST_RELU) == []  # fixed in a later cell: fine
    assert [f[:26] for f in uses(HONEST_RELU, AUTOGRAD_RELU)] == ["`relu_backward` (cell 2, l"] * 3


def test_methods_and_fields_of_the_students_own_classes_are_not_autograd():
    layer = (
        "class Dense:\n"
        "    def __init__(self, W):\n        self.W, self.grad = W, None\n"
        "    def backward(self, dout, x):\n        self.grad = x.T @ dout\n        return dout @ self.W.T\n"
    )
    graded = (
        "def dense_backward(dout, x, W):\n    layer = Dense(W)\n    dx = layer.backward(dout, x)\n"
        "    return dx, layer.grad, dout.sum(dim=0)\n"
    )
    assert uses(layer, graded, graded=("dense_backward",)) == []
    # A class the graded function never uses exempts nothing: .backward and .grad are autograd's
    torch_backward = graded.replace("layer.backward(dout, x)", "(x @ W).sum().backward()")
    assert uses("class Other:\n    pass", torch_backward, graded=("dense_backward",)) == [
        "`dense_backward` (cell 2, line 3): uses .backward",
        "`dense_backward` (cell 2, line 4): uses .grad",
    ]


def test_a_computed_name_escapes_the_reading_and_is_left_to_no_grad():
    # The hidden suite's second line: under torch.no_grad() this backward() has nothing to do.
    graded = "def relu_backward(dout, z):\n    getattr((z * dout).sum(), 'back' + 'ward')()\n"
    assert uses(graded) == []
