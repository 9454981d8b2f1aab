"""CNN Designer's engine: graph model, block catalog, inference, compiler and project files.

The engine never imports Qt. Its public API:

- ``Graph`` with ``Node`` and ``Edge``: the design, edited through methods that emit events;
- ``CATALOG``: every block type's ``BlockSpec``;
- ``infer(graph)``: shapes, parameter counts, MACs and ``Diagnostic`` s of every node;
- ``compile_graph(graph)``: a ``torch.fx.GraphModule`` (torch is imported only then);
- ``Project``, ``load_project``, ``save_project``: versioned JSON files;
- ``apply_fix``: perform a diagnostic's quick fix;
- ``summary_text`` / ``summary_json``: the layer summary.
"""

from engine.catalog import CATALOG, BlockSpec, Shape, fmt_shape
from engine.compiler import compile_graph, example_inputs, run_and_record_shapes
from engine.diagnostics import Diagnostic, Fix, FixAction, Severity
from engine.errors import (
    CompileError,
    DesignerError,
    DuplicateNameError,
    GraphError,
    ParameterError,
    ProjectFileError,
    ShapeError,
    UnknownNameError,
)
from engine.fixes import apply_fix, insert_before
from engine.graph import Edge, Graph, Node, RemovedNode, group_name, group_prefixes
from engine.inference import MACS_CONVENTION, GroupTotal, InferenceResult, NodeResult, infer
from engine.project import Project, load_project, project_from_data, save_project
from engine.summary import summary_json, summary_text

__all__ = [
    "CATALOG",
    "MACS_CONVENTION",
    "BlockSpec",
    "CompileError",
    "DesignerError",
    "Diagnostic",
    "DuplicateNameError",
    "Edge",
    "Fix",
    "FixAction",
    "Graph",
    "GraphError",
    "GroupTotal",
    "InferenceResult",
    "Node",
    "NodeResult",
    "ParameterError",
    "Project",
    "ProjectFileError",
    "RemovedNode",
    "Severity",
    "Shape",
    "ShapeError",
    "UnknownNameError",
    "apply_fix",
    "compile_graph",
    "example_inputs",
    "fmt_shape",
    "group_name",
    "group_prefixes",
    "infer",
    "insert_before",
    "load_project",
    "project_from_data",
    "run_and_record_shapes",
    "save_project",
    "summary_json",
    "summary_text",
]
