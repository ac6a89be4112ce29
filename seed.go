package main

import (
	"fmt"
)

type seedCmd struct {
	Workflows int `default:"6" help:"Workflows to generate."`
	Runs      int `default:"12" help:"Runs per workflow."`
	Users     int `default:"40" help:"Users to generate."`
}

func (c *seedCmd) Run(env *runEnv) error { return fmt.Errorf("not yet") }

func seedIfEmpty(env *runEnv, store any) error { return nil }
