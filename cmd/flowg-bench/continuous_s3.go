package main

import "errors"

// s3Flags are the flags of a continuous-on-s3 server: continuous backup to
// s3://flowg-bench/<dir> on the harness's MinIO, and where the segments
// staged for it appear.
func (c *continuous) s3Flags(on []string, dir string) ([]string, string, error) {
	return nil, "", errors.New("continuous backup to s3:// is not built yet")
}
