"""Support for the tests and benchmarks, never used by the pipeline itself: driving real `rtt`
processes to kill and resume them, and comparing what runs left behind (`kill_resume`); measuring
how near generated prompts come to IFEval's evaluation prompts (`near_duplicates`)."""
