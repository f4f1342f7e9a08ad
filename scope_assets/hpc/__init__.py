"""Heavy work on SLURM, Dagster-free: batch scripts, the SLURM commands, shipped calls.

- ``batch_script``    ``BatchSettings`` → ``#SBATCH`` lines, environment activation, the script
- ``cluster``         ``sbatch``/``scontrol``/``squeue``/``scancel``: submit, poll, state, cancel
- ``remote_call``     a domain call written by the launcher and run by the job
- ``pipes_job``       the job's entry point (``python -m scope_assets.hpc.pipes_job``)
- ``steps``           heavy calls that need a wrapper to run in a job (scoring a field)
- ``inference_jobs``  SCoPe's ``run-inference-slurm`` / ``run-inference-job-submission``
"""
