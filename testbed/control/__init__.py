"""Control plane: pure route computation (`routes`), the plan the router app installs
(`plan`), and the OpenFlow router app with its launcher. Only `framework` imports Ryu."""
