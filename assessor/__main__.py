from assessor.cli import run

run()
