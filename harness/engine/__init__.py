"""The Docker engine: the client, throwaway containers, and the bases (pull, build, stand-ins)."""
