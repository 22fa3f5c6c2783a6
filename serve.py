"""Start the web app: build the default index from corpus/ if it is missing, then serve it.

python serve.py [--index DIR] [--corpus DIR] [--host 127.0.0.1] [--port 7860] [--reader DIR]
"""

import sys

from qa.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
