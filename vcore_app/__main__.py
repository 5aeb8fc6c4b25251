"""`python -m vcore_app`, and the PyInstaller entry point."""

from vcore_app.cli import main

if __name__ == "__main__":
    main()
