# nbgrader configuration of the course in this folder (assignments/).
#
# `python3 tasks.py assignments` and `python3 tasks.py autograde DIR` copy this file and
# source/ into a working course folder (default _build/nbgrader, not committed) and run
# nbgrader there, so release/, submitted/, autograded/, feedback/ and gradebook.db never
# land in the repository. Running nbgrader directly in this folder works too; the
# generated folders are ignored by assignments/.gitignore.
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "training-deep-networks"
# Student IDs are taken from the folder names under submitted/.
c.Autograde.create_student = True
# Each notebook runs in a fresh kernel when it is autograded; no cell needs more than a
# few seconds, so a student's infinite loop costs at most this long per cell.
c.Execute.timeout = 120
