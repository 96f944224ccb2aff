"""What a course is: where its parts live (``layout``), its policy file (``course_file``,
course.toml) and its students (``roster``).
"""
