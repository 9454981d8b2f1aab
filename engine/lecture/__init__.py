"""The lecture lab's computations (issue 18): every number a student sees, exact to torch.

Qt-free and torch-free at import: numpy in, plain dataclasses out (each with ``to_dict``).
``steps`` and ``steps_scatter`` step through convolution, pooling, transposed convolution and
unpooling position by position; ``backprop`` writes the lecture's gradient rules with numpy;
``batchnorm`` and ``dropout`` show training against inference. The tests hold every number
against torch.
"""
