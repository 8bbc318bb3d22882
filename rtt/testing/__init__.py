"""Support for the tests and benchmarks, never used by the pipeline itself: driving real `rtt`
processes to kill and resume them, and comparing what runs left behind (`kill_resume`); measuring
how near generated prompts come to IFEval's evaluation prompts (`near_duplicates`); stand-ins for
the services a user would have: an OpenAI-compatible LLM server with faults (`llm_server`) and an
S3 API (`s3_server`); a trainer update, and a discriminator training, on one process or on torchrun's
ranks (`data_parallel`, `disc_parallel`)."""
