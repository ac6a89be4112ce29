// Command lcw-gateway serves Microsoft Graph Lifecycle Workflows task reports over GraphQL.
package main

import "lcw-gateway/cli"

func main() { cli.Main() }
