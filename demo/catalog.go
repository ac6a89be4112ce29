package demo

import "lcw-gateway/db"

// Constant tables of the demo-data generator: the built-in task definition catalogue
// (spec/lifecycle-workflows.md 6.3 and 6.4) and the vocabulary demo workflows, users and failures
// are made of. Nothing here changes at run time.

// builtinDefinition is one built-in task definition plus how demo data makes it behave.
type builtinDefinition struct {
	id          string // Graph's id, lower-cased (one is upper-case in the docs)
	displayName string // the API displayName where Graph's example shows one, else the docs' name
	description string
	category    string // wire form; see the note on categories below
	parameters  []paramSpec

	// Demo behaviour.
	continueOnError bool     // the task setting demo workflows use
	minMillis       int      // how long one execution takes
	maxMillis       int      //
	failPerMille    int      // chance that one execution fails, in a troubled run
	needsManager    bool     // may also fail for a user without a manager (TAP, manager emails)
	failures        []string // failureReason strings; the first is also a run-wide misconfiguration
	infos           []string // processingInfo of a success that had nothing to do
}

// paramSpec is a Parameter as literal data.
type paramSpec struct {
	name      string
	valueType db.ValueType
	values    []string
}

// Parameter groups shared by several definitions (spec 6.4).
var (
	emailParams = []paramSpec{
		{name: "cc", valueType: "string"},
		{name: "customSubject", valueType: "string"},
		{name: "customBody", valueType: "string"},
		{name: "locale", valueType: "string"},
		{name: "to", valueType: "string"},
	}
	boolValues = []string{"true", "false"}
)

func withEmail(params ...paramSpec) []paramSpec {
	return append(params, emailParams...)
}

// Failure texts shared by several definitions. Graph documents no failureReason strings; these are
// written to read like what an administrator sees in the Entra admin center.
const (
	failNoManager        = "The user's manager could not be found. Assign a manager to the user and rerun the workflow."
	failManagerNoMailbox = "The email could not be sent because the user's manager does not have a mailbox."
	failMailTransient    = "Sending the email failed: the mail service returned 503 Service Unavailable. The task can be rerun."
	failThrottled        = "The request was throttled by Microsoft Graph (429 Too Many Requests) and the retries were exhausted."
	failPrivileges       = "Insufficient privileges to complete the operation (Authorization_RequestDenied)."
	failUserNotFound     = "The user could not be found in the directory (Request_ResourceNotFound)."
	failOnPremises       = "The user is synchronized from on-premises Active Directory; change the account on-premises."
)

// builtinDefinitions is the catalogue of the 24 built-in tasks of the task-arguments article.
//
// Categories: the sources disagree (spec 6.3). The catalogue follows the newest Entra "Lifecycle
// Workflow built-in tasks" page, which adds mover to the tasks that suit a move (access packages,
// licenses, groups, Teams, custom extensions, the move email). Where that page and the API
// example differ — Disable user account is "leaver" there and "joiner,leaver" in the API example —
// the newer page wins. Tasks no source categorises take the category their name implies:
// selected-Teams removal like selected-group removal (joiner,leaver,mover), removing selected
// licenses or one access package leaver,mover, the remove-all and cancel tasks leaver. Members
// are written in Graph's declaration order (joiner, leaver, mover), as the wire form would be.
var builtinDefinitions = []builtinDefinition{
	{
		id: "70b29d51-b59a-4773-9280-8841dfd3f2ea", displayName: "Send Welcome Email", category: "joiner",
		description: "Send welcome email to new hire", parameters: withEmail(),
		continueOnError: true, minMillis: 400, maxMillis: 2500, failPerMille: 8,
		failures: []string{failMailTransient,
			"The welcome email could not be sent because the user has no mail address yet.",
			"Sending the email failed: the recipient's mailbox is not provisioned yet (550 5.1.10 RESOLVER.ADR.RecipientNotFound)."},
	},
	{
		id: "3c860712-2d37-42a4-928f-5c93935d26a1", displayName: "Send onboarding reminder email", category: "joiner",
		description: "Send onboarding reminder email to user’s manager", parameters: withEmail(),
		continueOnError: true, minMillis: 400, maxMillis: 2500, failPerMille: 5, needsManager: true,
		failures: []string{failMailTransient, failManagerNoMailbox},
	},
	{
		id: "1b555e50-7f65-41d5-b514-5894a026d10d", displayName: "Generate TAP And Send Email", category: "joiner",
		description: "Generate Temporary Access Pass and send via email to user's manager",
		parameters: withEmail(
			paramSpec{name: "tapLifetimeMinutes", valueType: "string"},
			paramSpec{name: "tapIsUsableOnce", valueType: "enum", values: boolValues}),
		minMillis: 900, maxMillis: 4000, failPerMille: 12, needsManager: true,
		failures: []string{
			"A Temporary Access Pass could not be created: the Temporary Access Pass authentication method policy is not enabled for the user.",
			failManagerNoMailbox,
			"A Temporary Access Pass could not be created because the user already has one that is still valid.",
			failThrottled},
	},
	{
		id: "22085229-5809-45e8-97fd-270d28d66910", displayName: "Add db.User To Groups", category: "joiner,leaver,mover",
		description: "Add user to selected groups", parameters: []paramSpec{{name: "groupID", valueType: "string"}},
		minMillis: 300, maxMillis: 2000, failPerMille: 10,
		failures: []string{
			"The group could not be found (Request_ResourceNotFound). Check the groupID argument of the task.",
			"Members cannot be added to a group with dynamic membership.",
			failPrivileges, failThrottled},
		infos: []string{"The user is already a member of the group; no change was made."},
	},
	{
		id: "e440ed8d-25a1-4618-84ce-091ed5be5594", displayName: "Add db.User To Teams", category: "joiner,leaver,mover",
		description: "Add user to selected Teams", parameters: []paramSpec{{name: "teamID", valueType: "string"}},
		minMillis: 800, maxMillis: 5000, failPerMille: 15,
		failures: []string{
			"The team could not be found (Request_ResourceNotFound). Check the teamID argument of the task.",
			"The user could not be added to the team because they do not have a Microsoft Teams license.",
			failThrottled},
		infos: []string{"The user is already a member of the team; no change was made."},
	},
	{
		id: "6fc52c9d-398b-4305-9763-15f42c1676fc", displayName: "Enable db.User Account", category: "joiner,leaver",
		description: "Enable user account in the directory",
		parameters:  []paramSpec{{name: "enableOnPremisesAccount", valueType: "enum", values: boolValues}},
		minMillis:   200, maxMillis: 1200, failPerMille: 4,
		failures: []string{failPrivileges, failOnPremises, failUserNotFound},
		infos:    []string{"The user account was already enabled; no change was made."},
	},
	{
		id: "4262b724-8dba-4fad-afc3-43fcbb497a0e", displayName: "db.Run a Custom db.Task Extension", category: "joiner,leaver,mover",
		description: "db.Run a Custom db.Task Extension to callout to an external system.",
		parameters:  []paramSpec{{name: "customTaskExtensionID", valueType: "string"}},
		// The task waits for the Logic App's callback, so it runs for minutes.
		minMillis: 20_000, maxMillis: 600_000, failPerMille: 20,
		failures: []string{
			"The custom task extension could not be started: the Logic App workflow is disabled.",
			"The Logic App returned status code 500 (InternalServerError).",
			"No callback was received from the custom task extension before the timeout."},
	},
	{
		id: "683c87a4-2ad4-420b-97d4-220d90afcd24", displayName: "Assign licenses to users", category: "joiner,mover",
		description: "Assign selected licenses to the user", parameters: []paramSpec{{name: "licenses", valueType: "string"}},
		minMillis: 500, maxMillis: 3000, failPerMille: 15,
		failures: []string{
			"License assignment failed: there are not enough available licenses for the selected product.",
			"License assignment failed because the user has no usage location.",
			"License assignment failed: the selected service plans conflict with a license the user already has."},
		infos: []string{"The user already has the selected licenses; no change was made."},
	},
	{
		id: "5fc402a8-daaf-4b7b-9203-da868b05fc5f", displayName: "Remove selected license assignments from user", category: "leaver,mover",
		description: "Remove selected license assignments from the user", parameters: []paramSpec{{name: "licenses", valueType: "string"}},
		minMillis: 500, maxMillis: 3000, failPerMille: 6,
		failures: []string{
			"The license is inherited from a group and cannot be removed from the user directly.",
			failPrivileges},
		infos: []string{"The user did not have the selected licenses; no change was made."},
	},
	{
		id: "1dfdfcc7-52fa-4c2e-bf3a-e3919cc12950", displayName: "Disable db.User Account", category: "leaver",
		description: "Disable user account in the directory",
		parameters:  []paramSpec{{name: "disableOnPremisesAccount", valueType: "enum", values: boolValues}},
		minMillis:   200, maxMillis: 1200, failPerMille: 5,
		failures: []string{failPrivileges, failOnPremises,
			"The account of a user with a privileged role assignment cannot be disabled by Lifecycle Workflows."},
		infos: []string{"The user account was already disabled; no change was made."},
	},
	{
		id: "1953a66c-751c-45e5-8bfe-01462c70da3c", displayName: "Remove user from selected groups", category: "joiner,leaver,mover",
		description: "Remove user from membership of selected Azure AD groups", parameters: []paramSpec{{name: "groupID", valueType: "string"}},
		minMillis: 300, maxMillis: 2000, failPerMille: 8,
		failures: []string{
			"The group could not be found (Request_ResourceNotFound). Check the groupID argument of the task.",
			"Members cannot be removed from a group with dynamic membership.",
			failPrivileges},
		infos: []string{"The user was not a member of the group; no change was made."},
	},
	{
		id: "b3a31406-2a15-4c9a-b25b-a658fa5f07fc", displayName: "Remove user from all groups", category: "leaver",
		description: "Remove user from all Azure AD groups memberships",
		minMillis:   600, maxMillis: 6000, failPerMille: 12,
		failures: []string{
			"The user could not be removed from a group that is synchronized from on-premises Active Directory.",
			"Members cannot be removed from a group with dynamic membership.",
			failThrottled},
		infos: []string{"The user was not a member of any group; no change was made."},
	},
	{
		id: "06aa7acb-01af-4824-8899-b14e5ed788d6", displayName: "Remove user from selected Teams", category: "joiner,leaver,mover",
		description: "Remove user from membership of selected Teams", parameters: []paramSpec{{name: "teamID", valueType: "string"}},
		minMillis: 800, maxMillis: 5000, failPerMille: 10,
		failures: []string{
			"The team could not be found (Request_ResourceNotFound). Check the teamID argument of the task.",
			"The user is the last owner of the team and cannot be removed.",
			failThrottled},
		infos: []string{"The user was not a member of the team; no change was made."},
	},
	{
		id: "81f7b200-2816-4b3b-8c5d-dc556f07b024", displayName: "Remove user from all Teams", category: "leaver",
		description: "Remove user from all Teams memberships",
		minMillis:   1000, maxMillis: 8000, failPerMille: 12,
		failures: []string{"The user is the last owner of a team and cannot be removed.", failThrottled},
		infos:    []string{"The user was not a member of any team; no change was made."},
	},
	{
		id: "8fa97d28-3e52-4985-b3a9-a1126f9b8b4e", displayName: "Remove all licenses for user", category: "leaver",
		description: "Remove all licenses assigned to the user",
		minMillis:   500, maxMillis: 3000, failPerMille: 8,
		failures: []string{
			"A license inherited from a group cannot be removed from the user directly; remove the user from the group.",
			failPrivileges},
		infos: []string{"The user had no licenses to remove."},
	},
	{
		id: "8d18588d-9ad3-4c0f-99d0-ec215f0e3dff", displayName: "Delete db.User Account", category: "leaver",
		description: "Delete user account in Azure AD",
		parameters:  []paramSpec{{name: "deleteOnPremisesAccount", valueType: "enum", values: boolValues}},
		minMillis:   300, maxMillis: 1500, failPerMille: 6,
		failures: []string{
			"The user could not be deleted because they hold a privileged role assignment.",
			failOnPremises, failUserNotFound},
	},
	{
		id: "aab41899-9972-422a-9d97-f626014578b7", displayName: "Send email to notify manager of user move", category: "mover",
		description: "Send email to notify user’s manager of user move", parameters: withEmail(),
		continueOnError: true, minMillis: 400, maxMillis: 2500, failPerMille: 5, needsManager: true,
		failures: []string{failMailTransient, failManagerNoMailbox},
	},
	{
		id: "52853a3e-f4e5-4eb8-bb24-1ac09a1da935", displayName: "Send email before user’s last day", category: "leaver",
		description: "Send offboarding email to user’s manager before the last day of work", parameters: withEmail(),
		continueOnError: true, minMillis: 400, maxMillis: 2500, failPerMille: 5, needsManager: true,
		failures: []string{failMailTransient, failManagerNoMailbox},
	},
	{
		id: "9c0a1eaf-5bda-4392-9d9e-6e155bb57411", displayName: "Send email on user’s last day", category: "leaver",
		description: "Send offboarding email to user’s manager on the last day of work", parameters: withEmail(),
		continueOnError: true, minMillis: 400, maxMillis: 2500, failPerMille: 5, needsManager: true,
		failures: []string{failMailTransient, failManagerNoMailbox},
	},
	{
		id: "6f22ddd4-b3a5-47a4-a846-0d7c201a49ce", displayName: "Send email after user’s last day", category: "leaver",
		description: "Send offboarding email to user’s manager after the last day of work", parameters: withEmail(),
		continueOnError: true, minMillis: 400, maxMillis: 2500, failPerMille: 5, needsManager: true,
		failures: []string{failMailTransient, failManagerNoMailbox},
	},
	{
		id: "c1ec1e76-f374-4375-aaa6-0bb6bd4c60be", displayName: "Request user access package assignment", category: "joiner,mover",
		description: "Request user assignment to selected access package",
		parameters: []paramSpec{
			{name: "assignmentPolicyId", valueType: "string"},
			{name: "accessPackageId", valueType: "string"}},
		minMillis: 700, maxMillis: 4000, failPerMille: 15,
		failures: []string{
			"The assignment policy does not allow requests for this user.",
			"An access package assignment request is already pending for the user.",
			"The access package could not be found. Check the accessPackageId argument of the task."},
		infos: []string{"The user already has an assignment for the access package; no request was made."},
	},
	{
		id: "4a0b64f2-c7ec-46ba-b117-18f262946c50", displayName: "Remove access package assignment for user", category: "leaver,mover",
		description: "Remove user assignment of selected access package",
		parameters:  []paramSpec{{name: "accessPackageId", valueType: "string"}},
		minMillis:   700, maxMillis: 4000, failPerMille: 8,
		failures: []string{
			"The access package could not be found. Check the accessPackageId argument of the task.",
			failThrottled},
		infos: []string{"The user had no assignment for the access package; no change was made."},
	},
	{
		id: "42ae2956-193d-4f39-be06-691b8ac4fa1d", displayName: "Remove all access package assignments for user", category: "leaver",
		description: "Remove all access packages assigned to the user",
		minMillis:   700, maxMillis: 6000, failPerMille: 8,
		failures: []string{"An access package assignment could not be removed: the assignment is already being removed.", failThrottled},
		infos:    []string{"The user had no access package assignments; no change was made."},
	},
	{
		id: "498770d9-bab7-4e4c-b73d-5ded82a1d0b3", displayName: "Cancel pending access package assignment requests for user", category: "leaver",
		description: "Cancel all pending access package assignment requests for the user",
		minMillis:   500, maxMillis: 3000, failPerMille: 5,
		failures: []string{"A pending request could not be canceled because it is already being processed.", failThrottled},
		infos:    []string{"The user had no pending access package assignment requests."},
	},
}

// Which definitions each kind of demo workflow may use, in the order a workflow runs them: a
// workflow takes an ordered subset, so a leaver is disabled before they are deleted.
var demoTaskOrder = map[db.WorkflowCategory][]string{
	db.WorkflowJoiner: {
		"6fc52c9d-398b-4305-9763-15f42c1676fc", // enable account
		"1b555e50-7f65-41d5-b514-5894a026d10d", // TAP to manager
		"22085229-5809-45e8-97fd-270d28d66910", // add to groups
		"e440ed8d-25a1-4618-84ce-091ed5be5594", // add to Teams
		"683c87a4-2ad4-420b-97d4-220d90afcd24", // assign licenses
		"c1ec1e76-f374-4375-aaa6-0bb6bd4c60be", // request access package
		"4262b724-8dba-4fad-afc3-43fcbb497a0e", // custom task extension
		"70b29d51-b59a-4773-9280-8841dfd3f2ea", // welcome email
		"3c860712-2d37-42a4-928f-5c93935d26a1", // onboarding reminder
	},
	db.WorkflowMover: {
		"aab41899-9972-422a-9d97-f626014578b7", // notify manager
		"1953a66c-751c-45e5-8bfe-01462c70da3c", // remove selected groups
		"22085229-5809-45e8-97fd-270d28d66910", // add to groups
		"06aa7acb-01af-4824-8899-b14e5ed788d6", // remove selected Teams
		"e440ed8d-25a1-4618-84ce-091ed5be5594", // add to Teams
		"4a0b64f2-c7ec-46ba-b117-18f262946c50", // remove access package
		"c1ec1e76-f374-4375-aaa6-0bb6bd4c60be", // request access package
		"5fc402a8-daaf-4b7b-9203-da868b05fc5f", // remove selected licenses
		"683c87a4-2ad4-420b-97d4-220d90afcd24", // assign licenses
		"4262b724-8dba-4fad-afc3-43fcbb497a0e", // custom task extension
	},
	db.WorkflowLeaver: {
		"52853a3e-f4e5-4eb8-bb24-1ac09a1da935", // email before last day
		"9c0a1eaf-5bda-4392-9d9e-6e155bb57411", // email on last day
		"1dfdfcc7-52fa-4c2e-bf3a-e3919cc12950", // disable account
		"1953a66c-751c-45e5-8bfe-01462c70da3c", // remove selected groups
		"b3a31406-2a15-4c9a-b25b-a658fa5f07fc", // remove all groups
		"81f7b200-2816-4b3b-8c5d-dc556f07b024", // remove all Teams
		"42ae2956-193d-4f39-be06-691b8ac4fa1d", // remove all access packages
		"498770d9-bab7-4e4c-b73d-5ded82a1d0b3", // cancel pending requests
		"8fa97d28-3e52-4985-b3a9-a1126f9b8b4e", // remove all licenses
		"4262b724-8dba-4fad-afc3-43fcbb497a0e", // custom task extension
		"6f22ddd4-b3a5-47a4-a846-0d7c201a49ce", // email after last day
		"8d18588d-9ad3-4c0f-99d0-ec215f0e3dff", // delete account
	},
}

// demoTemplate is a kind of workflow, after Microsoft's workflow templates.
type demoTemplate struct {
	category    db.WorkflowCategory
	name        string // "%s" is the department
	description string // "%s" is the department
	scheduled   bool   // isSchedulingEnabled; real-time templates run on demand only
}

var demoTemplates = map[db.WorkflowCategory][]demoTemplate{
	db.WorkflowJoiner: {
		{db.WorkflowJoiner, "Onboard new hires – %s", "Prepares accounts, access and a welcome for new hires in %s on their employeeHireDate.", true},
		{db.WorkflowJoiner, "Onboard pre-hires – %s", "Sends the manager a Temporary Access Pass and sets up access for %s hires seven days before they start.", true},
		{db.WorkflowJoiner, "Post-onboarding – %s", "Follows up with %s hires and their managers one week after the start date.", true},
	},
	db.WorkflowLeaver: {
		{db.WorkflowLeaver, "Offboard leavers – %s", "Removes access of %s employees on their employeeLeaveDateTime.", true},
		{db.WorkflowLeaver, "Pre-offboarding – %s", "Notifies managers and starts removing access of %s employees before their last day.", true},
		{db.WorkflowLeaver, "Post-offboarding cleanup – %s", "Removes the remaining licenses and deletes the accounts of %s leavers 30 days after they left.", true},
		{db.WorkflowLeaver, "Real-time termination – %s", "Immediately disables and removes all access of a %s employee; run on demand by HR.", false},
	},
	db.WorkflowMover: {
		{db.WorkflowMover, "Department change – %s", "Moves group, Teams and access package memberships of employees who join %s from another department.", true},
		{db.WorkflowMover, "Job profile change – %s", "Updates licenses and access of %s employees whose job title changes.", false},
	},
}

// demoCategoryCycle is the mix of demo workflows: most tenants have as many joiner as leaver
// workflows and fewer for movers.
var demoCategoryCycle = []db.WorkflowCategory{db.WorkflowJoiner, db.WorkflowLeaver, db.WorkflowMover, db.WorkflowJoiner, db.WorkflowLeaver}

var demoDepartments = []string{
	"Sales", "Engineering", "Marketing", "Finance", "Human Resources", "Customer Support",
	"Legal", "Operations", "Research", "IT", "Procurement", "Facilities",
}

const demoDomain = "contoso.example"

var demoGivenNames = []string{
	"Adele", "Alex", "Allan", "Amara", "Ana", "Ben", "Bianca", "Carlos", "Chen", "Chloe",
	"Christie", "Daniel", "Debra", "Diego", "Elena", "Emily", "Enrico", "Fatima", "Grady", "Hana",
	"Henrietta", "Isaiah", "Ivan", "Jasmine", "Johanna", "Joni", "Kenji", "Lee", "Leila", "Lidia",
	"Lynne", "Marta", "Megan", "Miriam", "Nestor", "Nikolai", "Olga", "Omar", "Patti", "Pradeep",
	"Priya", "Rafael", "Sakura", "Samuel", "Sofia", "Tomás", "Valentina", "Wei", "Yusuf", "Zoe",
}

var demoSurnames = []string{
	"Adams", "Ahmed", "Alvarez", "Andersen", "Bauer", "Becker", "Brown", "Castillo", "Chen", "Cohen",
	"Diaz", "Dubois", "Fischer", "Garcia", "Gupta", "Hansen", "Ito", "Jensen", "Johnson", "Kim",
	"Kowalski", "Kumar", "Larsen", "Lopez", "Martin", "Meyer", "Moreau", "Müller", "Nakamura", "Nguyen",
	"Novak", "Okafor", "Olsen", "Patel", "Petrov", "Rossi", "Santos", "Schmidt", "Silva", "Singh",
	"Smith", "Suzuki", "Tanaka", "Thompson", "Vance", "Wagner", "Wang", "Weber", "Wilson", "Zhang",
}
