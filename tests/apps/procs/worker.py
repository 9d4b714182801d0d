import os
import time

while True:
    print(f"worker tick from {os.environ['DYNO']}", flush=True)
    time.sleep(1)
