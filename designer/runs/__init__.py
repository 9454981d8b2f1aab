"""The run browser's widgets: the table of runs (``model``), the comparison tabs
(``compare``) and what it does to runs (``actions``); ``designer.training.runs_page`` puts
them together."""
