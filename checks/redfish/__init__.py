"""Server hardware through the BMC's Redfish service (iDRAC, iLO, XCC, iBMC ...)."""
