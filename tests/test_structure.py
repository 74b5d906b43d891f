"""The shape of the code base: no import cycle among the project's own modules, and no source file over 500 lines.

The import graph is read with ``ast`` from every .py file of the repository (the extension, the emulator, bench,
scripts, the test support modules and the tests themselves), without importing anything:

- Every import counts, wherever it stands: at module level or inside a function. A function-level import only
  postpones a cycle to run time; main's ``emulator/core.py`` imported its services inside functions while each
  service imported ``core`` at module level, and that is the cycle this test exists to catch.
- ``from package import name`` depends on ``package.name`` when that is a module of the project, else on
  ``package`` itself; relative imports are resolved against the importing module's package.
- The implicit import of parent packages (importing ``a.b.c`` runs ``a/__init__.py``) is not an edge: a package
  ``__init__`` that re-exports one of its modules (``emulator/__init__.py`` exports ``Emulator``) would otherwise
  close a cycle with every module of the package.
- Modules under tests/ are imported by file name (pytest puts their folder on sys.path), so ``az_support`` is
  ``tests/az_support.py``; conftest.py files and test modules are never imported, so they are keyed by path.
"""
import ast
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINES = 500
SKIPPED_DIRS = {"build", "dist", "__pycache__", "node_modules"}


def python_files(root):
    """Paths (relative to ``root``) of the repository's own .py files."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS
                         and not d.endswith(".egg-info"))
        found += [os.path.relpath(os.path.join(folder, f), root) for f in sorted(files) if f.endswith(".py")]
    return found


def module_name(path):
    """The name a module is imported by (see the module docstring)."""
    parts = path[:-len(".py")].split(os.sep)
    if parts[0] in ("tests", "scripts"):
        return parts[-1] if parts[0] == "tests" and _support_module(parts[-1]) else "/".join(parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _support_module(name):
    return name != "conftest" and not name.startswith("test_")


def _imported(node, importer, is_package, modules):
    """The project modules one import statement depends on."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    base = node.module or ""
    if node.level:
        package = importer.split(".") if is_package else importer.split(".")[:-1]
        package = package[:len(package) - (node.level - 1)]
        base = ".".join(package + ([base] if base else []))
    found = []
    for alias in node.names:
        candidate = "%s.%s" % (base, alias.name) if base else alias.name
        if candidate in modules:
            found.append(candidate)
        elif base in modules:
            found.append(base)
    return found


def import_graph(root):
    """``{module: set of project modules it imports}`` for the repository at ``root``."""
    paths = {module_name(path): path for path in python_files(root)}
    graph = {}
    for name, path in paths.items():
        with open(os.path.join(root, path), encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), filename=path)
        is_package = path.endswith("__init__.py")
        graph[name] = {target for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                       for target in _imported(node, name, is_package, paths) if target != name}
    return graph


def reachable(graph, start):
    """The modules ``start`` reaches through one import or more (itself only if it is on a cycle)."""
    seen, todo = set(), list(graph.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def import_cycles(graph):
    """Every group of modules that import each other, directly or not (each group sorted)."""
    reach = {node: reachable(graph, node) for node in graph}
    cycles, placed = [], set()
    for node in sorted(graph):
        if node in reach[node] and node not in placed:
            group = sorted(other for other in reach[node] if node in reach.get(other, ()))
            placed.update(group)
            cycles.append(group)
    return cycles


def test_the_import_graph_covers_every_part_of_the_project():
    graph = import_graph(REPO)
    assert {"azext_devopstoken.custom", "emulator.app", "emulator.devops.service", "emulator.entra.service",
            "bench.figures", "az_support", "security_support", "scripts/demo"} <= set(graph)
    assert "emulator.server" in graph["emulator.devops.service"] | graph["emulator.devops.errors"]
    assert "emulator.devops.service" in graph["emulator.app"]
    assert "emulator.constants" in graph["az_support"]


def test_the_cycle_finder_finds_cycles_through_function_level_imports():
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []
    tree = {"pkg/__init__.py": "", "pkg/core.py": "def make():\n    from pkg import service\n",
            "pkg/service.py": "from pkg.core import make\n"}
    graph = {module_name(path): set() for path in tree}
    for path, text in tree.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module_name(path)] |= set(_imported(node, module_name(path), path.endswith("__init__.py"),
                                                          graph))
    assert import_cycles(graph) == [["pkg.core", "pkg.service"]]


def test_no_import_cycle_among_the_projects_modules():
    assert import_cycles(import_graph(REPO)) == []


def test_no_python_file_over_500_lines():
    too_long = {}
    for path in python_files(REPO):
        with open(os.path.join(REPO, path), encoding="utf-8") as handle:
            count = sum(1 for _ in handle)
        if count > MAX_LINES:
            too_long[path] = count
    assert too_long == {}
