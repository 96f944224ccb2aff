"""Reference solutions of the five graded assignments, one package per assignment.

Each package re-exports exactly the names that course-api.md grades for its
assignment; helpers beyond that surface live in the modules themselves.
"""
