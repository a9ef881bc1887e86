"""Running the same jobs on more than one process or machine: sweep futures on local worker
processes or as Ray tasks, benchmark jobs on the Ray node that holds the hardware, all of it
written to one result store. Ray is optional (``pip install 'airadar[ray]'``) and imported
only when asked for."""
