"""Sphinx extension for the book built without exercise solutions.

sphinx-exercise's (1.2.1) ``hide_solutions = True`` drops a ``{solution}`` directive and
the directive ``{solution-start}``, but not what lies *between* ``{solution-start}`` and
``{solution-end}`` (the gated form, used so that a solution can contain executed notebook
cells), nor the end marker, which has no HTML writer: such a page does not build at all
(tests/test_hide_gated_solutions.py). With ``hide_solutions`` on, this extension replaces ``{solution-start}`` by a marker and removes
everything from the marker to the matching ``{solution-end}``. It also stops the build from
publishing the sources of the pages (``_sources/`` and the .ipynb download button), which
contain the solutions.

It also removes the code cells tagged ``graded-source``: those print the book's own
implementation of a function that a graded assignment asks students to write (the
initializers, batch normalization, the optimizers, dropout, clipping), and a course that
hides the solutions hides those answers too. A short note takes each one's place.

Loaded only by ``python3 tasks.py build --without-solutions`` (through ``local_extensions``
in the configuration that command writes); the normal build does not use it.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import solution_end_node


class hidden_solution(nodes.Element):
    """Where a gated solution started; removed, with the solution, by HideGatedSolutions."""


class HidingSolutionStart(SolutionStartDirective):
    def run(self):
        result = super().run()  # registers the start, so sphinx-exercise's checks still run
        if self.env.app.config.hide_solutions:
            return [hidden_solution()]
        return result


class HideGatedSolutions(SphinxTransform):
    # before sphinx-exercise merges gated solutions (priority 10); with hide_solutions
    # there is nothing left for it to merge
    default_priority = 5

    def apply(self):
        if not self.config.hide_solutions:
            return
        for marker in list(self.document.findall(hidden_solution)):
            parent = marker.parent
            start = parent.index(marker)
            end = next((i for i in range(start + 1, len(parent.children))
                        if isinstance(parent.children[i], solution_end_node)), None)
            if end is None:
                raise ValueError(f"{self.env.docname}: a solution-start without a "
                                 "solution-end at the same level")
            for child in parent.children[start:end + 1]:
                parent.remove(child)


# the class MyST-NB gives a cell tagged graded-source, and the same as docutils normalizes
# class names (a {container} directive in a page)
GRADED_SOURCE = ("tag_graded-source", "tag-graded-source")
GRADED_NOTE = ("The source of this function is not shown in this edition: writing it is "
               "part of a graded assignment.")


class HideGradedSources(SphinxTransform):
    default_priority = 5

    def apply(self):
        if not self.config.hide_solutions:
            return
        for cell in list(self.document.findall(nodes.container)):
            if set(GRADED_SOURCE) & set(cell.get("classes", [])):
                note = nodes.paragraph(text=GRADED_NOTE, classes=["graded-source-note"])
                cell.replace_self(note)


def no_sources(app, config):
    if config.hide_solutions:
        config.html_copy_source = False
        config.html_show_sourcelink = False
        config.html_theme_options = {**config.html_theme_options, "use_download_button": False}


def setup(app):
    app.setup_extension("sphinx_exercise")
    app.add_node(hidden_solution)
    app.add_directive("solution-start", HidingSolutionStart, override=True)
    app.add_transform(HideGatedSolutions)
    app.add_transform(HideGradedSources)
    app.connect("config-inited", no_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
